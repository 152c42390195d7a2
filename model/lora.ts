import * as tf from '@tensorflow/tfjs';
import { ownedVariable } from './variables';
import type { LowRank } from './layers';
import { LoraModule, LoraOptions, PeftLoraConfig, peftConfigJson } from './lora-config';
import type { CheckpointFiles } from './checkpoint';
import type { LayerAdapters, Qwen2Model } from './qwen2';
import { rng } from './random';
import { NamedTensor, decodeSafetensors, encodeSafetensors } from './safetensors';

/**
 * LoRA adapters (Hu et al. 2021, as in PEFT): each targeted projection W gets x·W + (alpha/r)·B(A x). Here, with
 * our [in, out] weight layout, A is [in, r] and B is [r, out]; PEFT's files hold lora_A.weight [r, in] and
 * lora_B.weight [out, r] under `base_model.model.<HF name without .weight>`. A starts kaiming-uniform like PEFT
 * (bound 1/√in), B at zero, so a fresh adapter leaves the model unchanged.
 */

const MODULE_PATH: Record<LoraModule, string> = {
  q_proj: 'self_attn', k_proj: 'self_attn', v_proj: 'self_attn', o_proj: 'self_attn', gate_proj: 'mlp', up_proj: 'mlp', down_proj: 'mlp',
};

/** PEFT's tensor name of one factor. */
export function peftName(layer: number, m: LoraModule, factor: 'A' | 'B'): string {
  return `base_model.model.model.layers.${layer}.${MODULE_PATH[m]}.${m}.lora_${factor}.weight`;
}

export const ADAPTER_FILES = ['adapter_config.json', 'adapter_model.safetensors'] as const;

export class LoraAdapters implements LayerAdapters {
  readonly scale: number;
  /**
   * Set by the trainer for a training step (dropout on); undefined in evaluation. Each projection's mask seed
   * derives from it, so a layer recomputed in the backward pass draws the same masks.
   */
  dropoutSeed?: number;

  private constructor(readonly options: LoraOptions, readonly layers: number, private readonly vars: Map<string, tf.Variable>) {
    this.scale = options.alpha / options.r;
  }

  /** Fresh adapters for `model` (A kaiming-uniform from `seed`, B zero). */
  static init(model: Qwen2Model, options: LoraOptions, seed = 0): LoraAdapters {
    const next = rng(seed);
    const vars = new Map<string, tf.Variable>();
    for (let l = 0; l < model.config.num_hidden_layers; l++)
      for (const m of options.targetModules) {
        const [inF, outF] = baseWeight(model, l, m).shape as [number, number];
        const bound = 1 / Math.sqrt(inF);
        const a = Float32Array.from({ length: inF * options.r }, () => (2 * next() - 1) * bound);
        vars.set(peftName(l, m, 'A'), ownedVariable(tf.tensor(a, [inF, options.r]), true));
        vars.set(peftName(l, m, 'B'), ownedVariable(tf.zeros([options.r, outF]), true));
      }
    return new LoraAdapters(options, model.config.num_hidden_layers, vars);
  }

  /** Adapters from PEFT files (ours or Python's), shapes checked against `model`. */
  static fromFiles(model: Qwen2Model, files: CheckpointFiles, source = 'adapter'): LoraAdapters {
    const raw = files.get('adapter_config.json'), st = files.get('adapter_model.safetensors');
    if (!raw || !st) throw new Error(`${source}: needs ${ADAPTER_FILES.join(' and ')}`);
    const parsed = PeftLoraConfig.safeParse(JSON.parse(raw.toString('utf8')));
    if (!parsed.success) throw new Error(`${source}/adapter_config.json: unsupported LoRA config (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
    const c = parsed.data;
    const options = LoraOptions.parse({ r: c.r, alpha: c.lora_alpha, dropout: c.lora_dropout, targetModules: c.target_modules });
    const { tensors } = decodeSafetensors(st, `${source}/adapter_model.safetensors`);
    const vars = new Map<string, tf.Variable>();
    try {
      for (let l = 0; l < model.config.num_hidden_layers; l++)
        for (const m of options.targetModules) {
          const [inF, outF] = baseWeight(model, l, m).shape as [number, number];
          // file layout is torch's [out, in] per factor: A [r, in], B [out, r]
          for (const [f, fileShape] of [['A', [options.r, inF]], ['B', [outF, options.r]]] as const) {
            const name = peftName(l, m, f), t = tensors.get(name);
            if (!t) throw new Error(`${source}: tensor ${name} missing`);
            if (t.shape.join() !== fileShape.join()) throw new Error(`${source}: tensor ${name} has shape [${t.shape}], the model needs [${fileShape}]`);
            vars.set(name, ownedVariable(tf.tensor(transposed(t).data, [fileShape[1], fileShape[0]]), true));
          }
        }
    } catch (err) {
      for (const v of vars.values()) v.dispose();
      throw err;
    }
    return new LoraAdapters(options, model.config.num_hidden_layers, vars);
  }

  namedVariables(): Map<string, tf.Variable> {
    return new Map(this.vars);
  }

  layerTensors(l: number): [string, tf.Tensor][] {
    return this.options.targetModules.flatMap((m) => (['A', 'B'] as const).map((f) => [localName(m, f), this.vars.get(peftName(l, m, f))!] as [string, tf.Tensor]));
  }

  lowRanks(l: number, get: (name: string) => tf.Tensor): Partial<Record<LoraModule, LowRank>> {
    const out: Partial<Record<LoraModule, LowRank>> = {};
    const { dropout, targetModules } = this.options;
    targetModules.forEach((m, i) => {
      const seed = this.dropoutSeed === undefined || dropout === 0 ? undefined : this.dropoutSeed * 7919 + l * 31 + i;
      out[m] = { a: get(localName(m, 'A')), b: get(localName(m, 'B')), scale: this.scale, dropout: seed === undefined ? undefined : { rate: dropout, seed } };
    });
    return out;
  }

  /** adapter_config.json and adapter_model.safetensors as PEFT writes them. */
  files(baseModel: string): CheckpointFiles {
    const tensors = new Map<string, NamedTensor>();
    for (const [name, v] of [...this.vars].sort(([a], [b]) => a.localeCompare(b)))
      tensors.set(name, transposed({ shape: [...v.shape], data: v.dataSync() as Float32Array }));
    return new Map([
      ['adapter_config.json', Buffer.from(JSON.stringify(peftConfigJson(this.options, baseModel), null, 2) + '\n')],
      ['adapter_model.safetensors', encodeSafetensors(tensors, { format: 'pt' })],
    ]);
  }

  /** W ← W + (alpha/r)·A·B in every targeted projection of `model` (then detach the adapters: they are inside W). */
  mergeInto(model: Qwen2Model): void {
    for (let l = 0; l < this.layers; l++)
      for (const m of this.options.targetModules) {
        const w = baseWeight(model, l, m);
        tf.tidy(() => w.assign(w.add(tf.matMul(this.vars.get(peftName(l, m, 'A'))!, this.vars.get(peftName(l, m, 'B'))!).mul(this.scale))));
      }
    if (model.adapters === this) model.adapters = undefined;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }
}

/** Name of a factor inside its decoder layer (as the layer's tensor getter sees it). */
const localName = (m: LoraModule, f: 'A' | 'B') => `${MODULE_PATH[m]}.${m}.lora_${f}`;

function baseWeight(model: Qwen2Model, l: number, m: LoraModule): tf.Variable {
  return model.p(`model.layers.${l}.${MODULE_PATH[m]}.${m}.weight`);
}

function transposed(t: NamedTensor): NamedTensor {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return { shape: [c, r], data: out };
}
