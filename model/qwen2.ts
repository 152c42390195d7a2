import * as tf from '@tensorflow/tfjs';
import { ModelConfig, headDim, usesAttentionBias } from './config';
import { attention, embed, linear, linearTransposed, rmsNorm, ropeTables, swiglu } from './layers';
import { normalArray, rng } from './random';

/** Hugging Face layout stores linear weights [out, in]; we keep [in, out] and transpose at the file boundary. */
export function isTransposedInFile(name: string): boolean {
  return name.endsWith('_proj.weight') || name === 'lm_head.weight' || name === 'value_head.weight';
}

/** Parameter names (HF Qwen2 / Llama names plus our value head) with their in-memory shapes. */
export function parameterShapes(c: ModelConfig): Map<string, number[]> {
  const H = c.hidden_size, D = headDim(c), I = c.intermediate_size;
  const bias = usesAttentionBias(c);
  const s = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocab_size, H]]]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    s.set(p + 'input_layernorm.weight', [H]);
    s.set(p + 'self_attn.q_proj.weight', [H, c.num_attention_heads * D]);
    if (bias) s.set(p + 'self_attn.q_proj.bias', [c.num_attention_heads * D]);
    s.set(p + 'self_attn.k_proj.weight', [H, c.num_key_value_heads * D]);
    if (bias) s.set(p + 'self_attn.k_proj.bias', [c.num_key_value_heads * D]);
    s.set(p + 'self_attn.v_proj.weight', [H, c.num_key_value_heads * D]);
    if (bias) s.set(p + 'self_attn.v_proj.bias', [c.num_key_value_heads * D]);
    s.set(p + 'self_attn.o_proj.weight', [c.num_attention_heads * D, H]);
    s.set(p + 'post_attention_layernorm.weight', [H]);
    s.set(p + 'mlp.gate_proj.weight', [H, I]);
    s.set(p + 'mlp.up_proj.weight', [H, I]);
    s.set(p + 'mlp.down_proj.weight', [I, H]);
  }
  s.set('model.norm.weight', [H]);
  if (!c.tie_word_embeddings) s.set('lm_head.weight', [H, c.vocab_size]);
  s.set('value_head.weight', [H, 1]);
  s.set('value_head.bias', [1]);
  return s;
}

/** Per-layer key/value cache plus the host-side segment ids of every cached position (0 = padding). */
export interface KVCache {
  k: tf.Tensor[];
  v: tf.Tensor[];
  segments: Int32Array[]; // per batch row, length S
}

export interface ForwardInput {
  ids: number[][]; // [B, T], rectangular
  segments: number[][]; // [B, T]: tokens attend only within equal non-zero segments (packing, padding)
  positions: number[][]; // [B, T]: rotary positions
  cache?: KVCache;
}

/**
 * Qwen2 decoder with a scalar value head; without attention biases it is the Llama decoder. Parameters are
 * tf.Variables named as in Hugging Face checkpoints.
 */
export class Qwen2Model {
  constructor(readonly config: ModelConfig, readonly params: Map<string, tf.Variable>) {
    for (const [name, shape] of parameterShapes(config)) {
      const p = params.get(name);
      if (!p) throw new Error(`model parameter ${name} missing`);
      if (p.shape.join() !== shape.join()) throw new Error(`model parameter ${name} has shape [${p.shape}], config needs [${shape}]`);
    }
  }

  /** Random initialisation (normal, std 0.02; norms at one; biases at zero), identical on every backend. */
  static init(config: ModelConfig, seed = 0): Qwen2Model {
    const next = rng(seed);
    const params = new Map<string, tf.Variable>();
    for (const [name, shape] of parameterShapes(config)) {
      const size = shape.reduce((a, b) => a * b, 1);
      const data = name.endsWith('norm.weight') ? new Float32Array(size).fill(1) : name.endsWith('.bias') ? new Float32Array(size) : normalArray(size, 0.02, next);
      params.set(name, tf.variable(tf.tensor(data, shape), true));
    }
    return new Qwen2Model(config, params);
  }

  p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  /** Trainable parameters of the language model (the value head is trained only by PPO's critic loss). */
  lmVariables(): tf.Variable[] {
    return [...this.params].filter(([n]) => !n.startsWith('value_head.')).map(([, v]) => v);
  }

  parameterCount(): number {
    return [...this.params.values()].reduce((a, v) => a + v.size, 0);
  }

  /** Final hidden states [B, T, H] and the extended cache (when one was given or `useCache`). */
  forward(inp: ForwardInput & { useCache?: boolean }): { hidden: tf.Tensor; cache?: KVCache } {
    const c = this.config;
    const B = inp.ids.length, T = inp.ids[0].length;
    const past = inp.cache;
    const { segK, mask } = attentionMask(inp.segments, past);
    const S = segK[0].length;
    const { cos, sin } = ropeTables({ positions: Int32Array.from(inp.positions.flat()), batch: B, len: T, headDim: headDim(c), theta: c.rope_theta });
    const maskT = mask ? tf.tensor(mask, [B, 1, 1, T, S]) : undefined;
    let x = embed(tf.tensor1d(inp.ids.flat(), 'int32'), this.p('model.embed_tokens.weight')); // [B·T, H]
    const next: KVCache = { k: [], v: [], segments: segK };
    for (let l = 0; l < c.num_hidden_layers; l++) {
      const q = (n: string) => this.p(`model.layers.${l}.${n}`);
      const b = (n: string) => this.params.get(`model.layers.${l}.${n}`); // absent without attention biases
      const a = attention({
        x: rmsNorm(x, q('input_layernorm.weight'), c.rms_norm_eps),
        w: {
          wq: q('self_attn.q_proj.weight'), bq: b('self_attn.q_proj.bias'),
          wk: q('self_attn.k_proj.weight'), bk: b('self_attn.k_proj.bias'),
          wv: q('self_attn.v_proj.weight'), bv: b('self_attn.v_proj.bias'),
          wo: q('self_attn.o_proj.weight'),
        },
        batch: B,
        heads: c.num_attention_heads,
        kvHeads: c.num_key_value_heads,
        cos, sin, mask: maskT,
        past: past ? { k: past.k[l], v: past.v[l] } : undefined,
      });
      next.k.push(a.k);
      next.v.push(a.v);
      x = x.add(a.out);
      x = x.add(swiglu(rmsNorm(x, q('post_attention_layernorm.weight'), c.rms_norm_eps), q('mlp.gate_proj.weight'), q('mlp.up_proj.weight'), q('mlp.down_proj.weight')));
    }
    const hidden = rmsNorm(x, this.p('model.norm.weight'), c.rms_norm_eps).reshape([B, T, c.hidden_size]);
    return { hidden, cache: past || inp.useCache ? next : undefined };
  }

  /** Vocabulary logits [B, T, V] of hidden states [B, T, H] (tied head: the embedding table transposed). */
  logits(hidden: tf.Tensor): tf.Tensor {
    const [B, T, H] = hidden.shape as [number, number, number];
    const h = hidden.reshape([B * T, H]);
    const logits = this.config.tie_word_embeddings ? linearTransposed(h, this.p('model.embed_tokens.weight')) : linear(h, this.p('lm_head.weight'));
    return logits.reshape([B, T, -1]);
  }

  /** Critic values [B, T]. */
  values(hidden: tf.Tensor): tf.Tensor {
    const [B, T, H] = hidden.shape as [number, number, number];
    return linear(hidden.reshape([B * T, H]), this.p('value_head.weight'), this.p('value_head.bias')).reshape([B, T]);
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

/**
 * Segment ids of every key position (cached, then new) and the additive mask [B, T, S] of new queries over them:
 * a query sees earlier-or-equal positions of its own non-zero segment. No mask when nothing is hidden (a
 * single-token step without padding), which saves ops per decoded token.
 */
export function attentionMask(segments: number[][], past?: KVCache): { segK: Int32Array[]; mask?: Float32Array } {
  const B = segments.length, T = segments[0].length;
  const segK = segments.map((row, b) => Int32Array.from([...(past?.segments[b] ?? []), ...row]));
  const S = segK[0].length;
  const mask = new Float32Array(B * T * S);
  let masked = false;
  for (let b = 0; b < B; b++)
    for (let i = 0; i < T; i++) {
      const sq = segments[b][i];
      for (let j = 0; j < S; j++) {
        const allowed = sq !== 0 && segK[b][j] === sq && j <= S - T + i;
        if (!allowed) { mask[(b * T + i) * S + j] = -1e9; masked = true; }
      }
    }
  return { segK, mask: masked ? mask : undefined };
}

export function disposeCache(cache: KVCache | undefined): void {
  if (!cache) return;
  tf.dispose([...cache.k, ...cache.v]);
}
