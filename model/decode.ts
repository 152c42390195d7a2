import * as tf from '@tensorflow/tfjs';
import { headDim } from './config';
import { embed, linearTransposed, rmsNorm, ropeRow } from './layers';
import { ForwardInput, KVCache, Qwen2Model, attentionMask } from './qwen2';

type LayerWeights = {
  /** [H, 2C]: q/k/v columns grouped per kv head, then the same columns rotated by half (see `Decoder`). */
  qkv: tf.Tensor;
  qkvBias?: tf.Tensor; // absent for Llama (no attention biases)
  o: tf.Tensor;
  gate: tf.Tensor;
  up: tf.Tensor;
  down: tf.Tensor;
};

/**
 * One-token steps with the KV cache, the same maths as `Qwen2Model.forward`. A decoded token's cost on CPU is
 * per-op dispatch (tens of µs per tfjs op), not arithmetic, so inference copies of the weights are laid out once
 * per generation to need few ops per step:
 * - each RMSNorm weight is folded into the projection that follows it, the attention scale into the q columns;
 * - q, k and v are one matmul whose columns are grouped per kv head ([q × rep, k, v]), so a single split yields
 *   queries already shaped [B, kvHeads, rep, D] and keys/values in the cache layout [B, kvHeads, 1, D];
 * - rotary embedding is folded in too: the weight also holds every column rotated by half (x ↦ [−x₂, x₁]), so
 *   x·cos + rotate_half(x)·sin is one multiply by a [cos | sin] row and a sum;
 * The copies are built per generation and disposed with it, since training changes the model's variables.
 * Rounding differs from `forward` only in the last bits (folded products).
 */
export class Decoder {
  private readonly layers: LayerWeights[];
  /** [H, V], final norm folded in. */
  private readonly head: tf.Tensor;
  private readonly rope: (position: number, cos: Float32Array, sin: Float32Array) => void;
  private readonly kvHeads: number;
  private readonly rep: number;
  private readonly D: number;

  constructor(private readonly model: Qwen2Model) {
    const c = model.config;
    this.D = headDim(c);
    this.kvHeads = c.num_key_value_heads;
    this.rep = c.num_attention_heads / c.num_key_value_heads;
    this.rope = ropeRow(this.D, c.rope_theta);
    const p = (n: string) => model.p(n);
    const column = (w: tf.Tensor) => w.reshape([-1, 1]);
    ({ layers: this.layers, head: this.head } = tf.tidy(() => {
      const { columns, scale } = this.qkvLayout();
      const layers = Array.from({ length: c.num_hidden_layers }, (_, l): LayerWeights => {
        const q = (n: string) => p(`model.layers.${l}.${n}`);
        const wqkv = tf.concat([q('self_attn.q_proj.weight'), q('self_attn.k_proj.weight'), q('self_attn.v_proj.weight')], 1);
        const biased = model.params.has(`model.layers.${l}.self_attn.q_proj.bias`);
        const bqkv = biased ? tf.concat([q('self_attn.q_proj.bias'), q('self_attn.k_proj.bias'), q('self_attn.v_proj.bias')], 0) : undefined;
        return {
          qkv: tf.gather(wqkv, columns, 1).mul(scale).mul(column(q('input_layernorm.weight'))),
          qkvBias: bqkv && tf.gather(bqkv, columns).mul(scale),
          o: q('self_attn.o_proj.weight').clone(),
          gate: q('mlp.gate_proj.weight').mul(column(q('post_attention_layernorm.weight'))),
          up: q('mlp.up_proj.weight').mul(column(q('post_attention_layernorm.weight'))),
          down: q('mlp.down_proj.weight').clone(),
        };
      });
      const norm = p('model.norm.weight');
      const head = (c.tie_word_embeddings ? p('model.embed_tokens.weight').transpose() : p('lm_head.weight')).mul(column(norm));
      return { layers, head };
    }));
  }

  /** Source column (in concat[q, k, v] order) and factor of each of the 2C fused columns. */
  private qkvLayout(): { columns: tf.Tensor1D; scale: tf.Tensor1D } {
    const { kvHeads, rep, D } = this;
    const heads = kvHeads * rep, half = D / 2, C = kvHeads * (rep + 2) * D;
    const columns = new Int32Array(2 * C), scale = new Float32Array(2 * C);
    for (let g = 0; g < kvHeads; g++)
      for (let t = 0; t < rep + 2; t++) {
        const base = t < rep ? (g * rep + t) * D : t === rep ? (heads + g) * D : (heads + kvHeads + g) * D;
        const s = t < rep ? 1 / Math.sqrt(D) : 1;
        for (let i = 0; i < D; i++) {
          const at = (g * (rep + 2) + t) * D + i;
          columns[at] = base + i;
          scale[at] = s;
          columns[C + at] = base + (i < half ? i + half : i - half);
          scale[C + at] = i < half ? -s : s;
        }
      }
    return { columns: tf.tensor1d(columns, 'int32'), scale: tf.tensor1d(scale) };
  }

  /** [cos | sin] rows [B, 2C] for the fused columns: rotary for q and k, identity (cos 1, sin 0) for v. */
  private rotary(positions: number[][]): tf.Tensor {
    const { kvHeads, rep, D } = this;
    const C = kvHeads * (rep + 2) * D;
    const out = new Float32Array(positions.length * 2 * C);
    const cos = new Float32Array(D), sin = new Float32Array(D);
    positions.forEach(([pos], b) => {
      this.rope(pos, cos, sin);
      for (let g = 0; g < kvHeads; g++)
        for (let t = 0; t < rep + 2; t++) {
          const at = b * 2 * C + (g * (rep + 2) + t) * D;
          if (t <= rep) { out.set(cos, at); out.set(sin, at + C); } else out.fill(1, at, at + D);
        }
    });
    return tf.tensor2d(out, [positions.length, 2 * C]);
  }

  /** Logits [B, V] of one new token per row after `cache`, and the extended cache. */
  step(inp: ForwardInput & { cache: KVCache }): { logits: tf.Tensor; cache: KVCache } {
    const c = this.model.config, eps = c.rms_norm_eps;
    const { kvHeads, rep, D } = this;
    const B = inp.ids.length;
    if (inp.ids.some((row) => row.length !== 1)) throw new Error('Decoder.step takes exactly one new token per row');
    const { segK, mask } = attentionMask(inp.segments, inp.cache);
    const maskT = mask ? tf.tensor(mask, [B, 1, 1, segK[0].length]) : undefined;
    const cs = this.rotary(inp.positions);
    let x = embed(tf.tensor1d(inp.ids.flat(), 'int32'), this.model.p('model.embed_tokens.weight')); // [B, H]
    const next: KVCache = { k: [], v: [], segments: segK };
    this.layers.forEach((w, l) => {
      const proj = tf.matMul(rmsNorm(x, undefined, eps), w.qkv);
      const qkv = (w.qkvBias ? proj.add(w.qkvBias) : proj).mul(cs).reshape([B, 2, kvHeads, rep + 2, D]).sum(1);
      const [q, k, v] = tf.split(qkv, [rep, 1, 1], 2);
      const keys = tf.concat([inp.cache.k[l], k], 2);
      const values = tf.concat([inp.cache.v[l], v], 2);
      next.k.push(keys);
      next.v.push(values);
      const scores = linearTransposed(q, keys); // [B, kvHeads, rep, S]
      const ctx = tf.matMul(tf.softmax(maskT ? scores.add(maskT) : scores, -1), values).reshape([B, c.hidden_size]);
      x = x.add(tf.matMul(ctx, w.o));
      const h = rmsNorm(x, undefined, eps);
      const gate = tf.matMul(h, w.gate);
      x = x.add(tf.matMul(gate.mul(tf.sigmoid(gate)).mul(tf.matMul(h, w.up)), w.down));
    });
    return { logits: tf.matMul(rmsNorm(x, undefined, eps), this.head), cache: next };
  }

  dispose(): void {
    tf.dispose([this.head, ...this.layers.flatMap((w) => Object.values(w).filter((t): t is tf.Tensor => t !== undefined))]);
  }
}
