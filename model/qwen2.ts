import * as tf from '@tensorflow/tfjs';
import { ownedVariable } from './variables';
import { ModelConfig, headDim, usesAttentionBias } from './config';
import { type AttentionBlock, LowRank, attention, embed, linear, linearTransposed, rmsNorm, ropeTables, swiglu } from './layers';
import type { LoraModule } from './lora-config';
import { type GradientSink, recompute } from './recompute';
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

/** Adapters as the decoder sees them: named tensors per layer and the low-rank updates built from them. */
export interface LayerAdapters {
  /** set while training (dropout on), undefined in evaluation */
  dropoutSeed?: number;
  /** every adapter variable by its saved (PEFT) name */
  namedVariables(): Map<string, tf.Variable>;
  /** trainable tensors of layer `l`, named relative to the layer */
  layerTensors(l: number): [string, tf.Tensor][];
  /** the layer's per-projection updates, reading its tensors through `get` (recomputed layers pass copies) */
  lowRanks(l: number, get: (name: string) => tf.Tensor): Partial<Record<LoraModule, LowRank>>;
}

interface LayerInput { l: number; x: tf.Tensor; cos: tf.Tensor; sin: tf.Tensor; mask?: tf.Tensor; blocks?: AttentionBlock[]; batch: number }

/** Queries per block of the blocked causal attention of uncached passes (2048 tokens: 8 blocks, 44% of the keys skipped). */
export const ATTENTION_BLOCK = 256;

export interface ForwardInput {
  ids: number[][]; // [B, T], rectangular
  segments: number[][]; // [B, T]: tokens attend only within equal non-zero segments (packing, padding)
  positions: number[][]; // [B, T]: rotary positions
  /** [B, T]: a segment each token also sees (a prompt shared by several continuations), 0 = none; uncached passes only */
  prefixes?: number[][];
  cache?: KVCache;
}

/**
 * Qwen2 decoder with a scalar value head; without attention biases it is the Llama decoder. Parameters are
 * tf.Variables named as in Hugging Face checkpoints.
 */
export class Qwen2Model {
  /**
   * Recompute each decoder layer in the backward pass instead of keeping its activations (only where no KV cache
   * is built). On by default from 50M parameters, where stored activations outgrow the weights at training shapes.
   */
  gradientCheckpointing: boolean;
  /** Low-rank adapters (model/lora.ts) applied in every forward pass; the base weights are then frozen. */
  adapters?: LayerAdapters;
  /**
   * Set while an SFT step trains the base weights with gradient checkpointing: each recomputed layer hands its
   * weights' gradients here as the backward pass reaches it (accumulated in place, as PyTorch's `.grad`), so they
   * are not held on the tape beside the step's running sums until the backward ends (~0.4 GB on the 135M model).
   */
  gradientSink?: GradientSink;

  constructor(readonly config: ModelConfig, readonly params: Map<string, tf.Variable>) {
    for (const [name, shape] of parameterShapes(config)) {
      const p = params.get(name);
      if (!p) throw new Error(`model parameter ${name} missing`);
      if (p.shape.join() !== shape.join()) throw new Error(`model parameter ${name} has shape [${p.shape}], config needs [${shape}]`);
    }
    this.gradientCheckpointing = this.parameterCount() >= 50e6;
  }

  /** Random initialisation (normal, std 0.02; norms at one; biases at zero), identical on every backend. */
  static init(config: ModelConfig, seed = 0): Qwen2Model {
    const next = rng(seed);
    const params = new Map<string, tf.Variable>();
    for (const [name, shape] of parameterShapes(config)) {
      const size = shape.reduce((a, b) => a * b, 1);
      const data = name.endsWith('norm.weight') ? new Float32Array(size).fill(1) : name.endsWith('.bias') ? new Float32Array(size) : normalArray(size, 0.02, next);
      params.set(name, ownedVariable(tf.tensor(data, shape), true));
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

  /** What training updates: the adapters when some are attached, else the language model (by parameter name). */
  trainableParameters(): Map<string, tf.Variable> {
    if (this.adapters) return this.adapters.namedVariables();
    return new Map([...this.params].filter(([n]) => !n.startsWith('value_head.')));
  }

  parameterCount(): number {
    return [...this.params.values()].reduce((a, v) => a + v.size, 0);
  }

  /** Final hidden states [B, T, H] and the extended cache (when one was given or `useCache`). */
  forward(inp: ForwardInput & { useCache?: boolean }): { hidden: tf.Tensor; cache?: KVCache } {
    const c = this.config;
    const B = inp.ids.length, T = inp.ids[0].length;
    const past = inp.cache;
    const used = past || inp.useCache ? T : usedLength(inp.segments);
    if (used < T) {
      // trailing padding of every row is cut before an uncached pass and given back as zeros: no position sees it
      const cut = (m: number[][]) => m.map((r) => r.slice(0, used));
      const { hidden } = this.forward({ ids: cut(inp.ids), segments: cut(inp.segments), positions: cut(inp.positions), prefixes: inp.prefixes && cut(inp.prefixes) });
      return { hidden: hidden.pad([[0, 0], [0, T - used], [0, 0]]) };
    }
    const { cos, sin } = ropeTables({ positions: Int32Array.from(inp.positions.flat()), batch: B, len: T, headDim: headDim(c), theta: c.rope_theta });
    let x = embed(tf.tensor1d(inp.ids.flat(), 'int32'), this.p('model.embed_tokens.weight')); // [B·T, H]
    if (!past && !inp.useCache) {
      // training and scoring: no cache to build, so layers may be recomputed in the backward pass
      const blocks = maskedBlocks(inp);
      for (let l = 0; l < c.num_hidden_layers; l++) x = this.gradientCheckpointing ? this.recomputedLayer({ l, x, cos, sin, blocks, batch: B }) : this.decoderLayer({ l, x, cos, sin, blocks, batch: B, get: this.layerTensor(l) }).x;
      return { hidden: rmsNorm(x, this.p('model.norm.weight'), c.rms_norm_eps).reshape([B, T, c.hidden_size]) };
    }
    if (inp.prefixes) throw new Error('shared-prompt packing (prefixes) is for uncached passes only');
    const { segK, mask } = attentionMask(inp.segments, past);
    const S = segK[0].length;
    const maskT = mask ? tf.tensor(mask, [B, 1, 1, T, S]) : undefined;
    const next: KVCache = { k: [], v: [], segments: segK };
    for (let l = 0; l < c.num_hidden_layers; l++) {
      // a tidy per layer: a caller's tidy would keep every layer's attention scores ([heads, T, S] in several
      // copies) until the whole pass ends, ~10 GB for a 1.5k-token prompt on the 135M model; this path is
      // inference only (nothing is differentiated through a cache)
      const layerX = x;
      const out = tf.tidy(() => this.decoderLayer({ l, x: layerX, cos, sin, mask: maskT, batch: B, get: this.layerTensor(l), past: past ? { k: past.k[l], v: past.v[l] } : undefined }));
      layerX.dispose();
      next.k.push(out.k);
      next.v.push(out.v);
      x = out.x;
    }
    const hidden = rmsNorm(x, this.p('model.norm.weight'), c.rms_norm_eps).reshape([B, T, c.hidden_size]);
    return { hidden, cache: next };
  }

  /** Tensors of layer `l` by name relative to the layer (base weights, then adapter tensors); undefined when absent. */
  private layerTensor(l: number): (name: string) => tf.Tensor | undefined {
    const adapters = new Map(this.adapters?.layerTensors(l));
    return (n) => adapters.get(n) ?? this.params.get(`model.layers.${l}.${n}`);
  }

  /** One decoder layer: attention and SwiGLU MLP, each pre-normed and residual. */
  private decoderLayer(p: LayerInput & { get: (name: string) => tf.Tensor | undefined; past?: { k: tf.Tensor; v: tf.Tensor } }): { x: tf.Tensor; k: tf.Tensor; v: tf.Tensor } {
    const c = this.config;
    const w = (n: string) => p.get(n)!;
    const lora = this.adapters?.lowRanks(p.l, w);
    const a = attention({
      x: rmsNorm(p.x, w('input_layernorm.weight'), c.rms_norm_eps),
      w: {
        wq: w('self_attn.q_proj.weight'), bq: p.get('self_attn.q_proj.bias'),
        wk: w('self_attn.k_proj.weight'), bk: p.get('self_attn.k_proj.bias'),
        wv: w('self_attn.v_proj.weight'), bv: p.get('self_attn.v_proj.bias'),
        wo: w('self_attn.o_proj.weight'),
        lora,
      },
      batch: p.batch,
      heads: c.num_attention_heads,
      kvHeads: c.num_key_value_heads,
      cos: p.cos, sin: p.sin, mask: p.mask, blocks: p.blocks,
      past: p.past,
    });
    const x = p.x.add(a.out);
    const mlp = swiglu(rmsNorm(x, w('post_attention_layernorm.weight'), c.rms_norm_eps), w('mlp.gate_proj.weight'), w('mlp.up_proj.weight'), w('mlp.down_proj.weight'), lora);
    return { x: x.add(mlp), k: a.k, v: a.v };
  }

  /**
   * A decoder layer whose activations are not kept for the backward pass but recomputed there (gradient
   * checkpointing): between forward and backward a layer keeps only its input. The differentiated inputs are the
   * trainable tensors: the adapters when some are attached (the base is then frozen), else the layer's weights.
   */
  private recomputedLayer(p: LayerInput): tf.Tensor {
    const trainable: [string, tf.Tensor][] = this.adapters
      ? this.adapters.layerTensors(p.l)
      : [...this.params].filter(([n]) => n.startsWith(`model.layers.${p.l}.`)).map(([n, v]) => [n.slice(`model.layers.${p.l}.`.length), v]);
    const frozen = this.layerTensor(p.l);
    const blocks = p.blocks ?? [];
    const weights = trainable.map(([, t]) => t);
    // adapters stay on the tape: they are small, and a loss whose every variable is sunk has no tape gradient at all
    const sink = this.gradientSink && !this.adapters ? { tensors: weights, into: this.gradientSink } : undefined;
    return recompute(([x, ...ws], [cos, sin, ...masks]) => {
      const byName = new Map(trainable.map(([n], i) => [n, ws[i]]));
      return this.decoderLayer({ ...p, x, cos, sin, blocks: blocks.map((b, i) => ({ ...b, mask: masks[i] })), get: (n) => byName.get(n) ?? frozen(n) }).x;
    }, sink ? [p.x] : [p.x, ...weights], [p.cos, p.sin, ...blocks.map((b) => b.mask)], sink);
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

/**
 * The additive mask [B, 1, 1, T, T] of packed rows without a cache, built from the segment ids on the device
 * (the host-side loop of `attentionMask` costs B·T² per step): a query sees earlier-or-equal positions of its own
 * non-zero segment, and of its `prefixes` segment when given. Without prefixes, the same values as `attentionMask`.
 */
export function segmentMask(segments: number[][], prefixes?: number[][]): tf.Tensor {
  const B = segments.length, T = segments[0].length;
  return tf.tidy(() => {
    const seg = tf.tensor2d(segments, [B, T], 'int32');
    const keys = seg.reshape([B, 1, T]);
    let seen = seg.reshape([B, T, 1]).equal(keys);
    if (prefixes) seen = tf.logicalOr(seen, tf.tensor2d(prefixes, [B, T], 'int32').reshape([B, T, 1]).equal(keys));
    const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).cast('bool').reshape([1, T, T]);
    const allowed = tf.logicalAnd(tf.logicalAnd(seen, causal), tf.logicalAnd(seg.notEqual(0).reshape([B, T, 1]), keys.notEqual(0)));
    return tf.where(allowed, tf.zeros([B, T, T]), tf.fill([B, T, T], -1e9)).reshape([B, 1, 1, T, T]);
  });
}

/** Columns up to the last one holding a token (a non-zero segment) in any row; at least one. */
export function usedLength(segments: number[][]): number {
  let used = 1;
  for (const row of segments) for (let i = row.length - 1; i >= used; i--) if (row[i] !== 0) { used = i + 1; break; }
  return used;
}

/**
 * Causal query blocks of `size` positions for packed rows without a cache, each with the first block whose keys
 * it needs: the block holding the first position of any segment (or prefix segment) its queries belong to.
 * Padding queries see nothing, so they need no keys but their own block's. Every key a query may see (per
 * `segmentMask`) lies in its block's range.
 */
export function attentionBlocks(p: { segments: number[][]; prefixes?: number[][]; size: number }): Omit<AttentionBlock, 'mask'>[] {
  const T = p.segments[0].length;
  const firsts = p.segments.map((row) => {
    const first = new Map<number, number>();
    row.forEach((s, i) => { if (s !== 0 && !first.has(s)) first.set(s, i); });
    return first;
  });
  const blocks: Omit<AttentionBlock, 'mask'>[] = [];
  for (let q0 = 0; q0 < T; q0 += p.size) {
    const q1 = Math.min(T, q0 + p.size);
    let k0 = q0;
    p.segments.forEach((row, b) => {
      for (let i = q0; i < q1; i++) for (const s of [row[i], p.prefixes?.[b][i] ?? 0]) if (s !== 0) k0 = Math.min(k0, firsts[b].get(s) ?? k0);
    });
    blocks.push({ q0, q1, first: Math.floor(k0 / p.size) });
  }
  return blocks;
}

/** The blocks of an uncached pass with their parts of the segment mask. */
export function maskedBlocks(inp: Pick<ForwardInput, 'segments' | 'prefixes'>, size = ATTENTION_BLOCK): AttentionBlock[] {
  const full = segmentMask(inp.segments, inp.prefixes);
  const blocks = attentionBlocks({ segments: inp.segments, prefixes: inp.prefixes, size });
  const out = blocks.map((b) => {
    const k0 = blocks[b.first].q0;
    return { ...b, mask: full.slice([0, 0, 0, b.q0, k0], [-1, -1, -1, b.q1 - b.q0, b.q1 - k0]) };
  });
  full.dispose();
  return out;
}

export function disposeCache(cache: KVCache | undefined): void {
  if (!cache) return;
  tf.dispose([...cache.k, ...cache.v]);
}
