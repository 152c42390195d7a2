import * as tf from '@tensorflow/tfjs';

/**
 * The building blocks of a Qwen2 decoder layer as pure functions of tensors, so each can be gradient-checked
 * alone. Linear weights are kept as [in, out] (the transpose of Hugging Face's layout) so the forward pass
 * is a plain matmul.
 */

const onWasm = () => tf.getBackend() === 'wasm';

/**
 * wasm runs transposed matmuls ~20× slower than plain ones; its matmul gradient uses them, so on wasm the
 * backward pass transposes explicitly. Shapes: a [..., m, k] · b [..., k, n] with equal batch dims.
 */
const matMulExplicitT = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      const perm = (t: tf.Tensor) => [...Array(t.rank - 2).keys(), t.rank - 1, t.rank - 2];
      return [tf.matMul(dy, tf.transpose(sb, perm(sb))), tf.matMul(tf.transpose(sa, perm(sa)), dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

export function mm(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return onWasm() ? matMulExplicitT(a, b) : tf.matMul(a, b);
}

/**
 * x [N, in] · w [in, out] (+ b). The model keeps its residual stream 2-D so no reshapes surround each
 * projection: at one token per step the per-op overhead, not arithmetic, bounds decoding speed.
 */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  if (onWasm()) return b ? mm(x, w).add(b) : mm(x, w);
  return tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b });
}

/** Float one-hot rows (wasm's OneHot ignores a float dtype and writes integers, so cast instead). */
export function oneHotFloat(ids: tf.Tensor, depth: number): tf.Tensor {
  return tf.oneHot(ids, depth).cast('float32');
}

/**
 * x [..., N, in] · wᵀ over the last two dims, for w stored [..., out, in] (the tied output head is the embedding
 * table; decoding multiplies queries by cached keys this way).
 */
export function linearTransposed(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return onWasm() ? mm(x, w.transpose([...Array(w.rank - 2).keys(), w.rank - 1, w.rank - 2])) : tf.matMul(x, w, false, true);
}

/** Token embedding; wasm has no gradient for gather, so there it is a one-hot matmul. */
export function embed(ids: tf.Tensor1D, table: tf.Tensor): tf.Tensor {
  return onWasm() ? mm(oneHotFloat(ids, table.shape[0]!), table) : tf.gather(table, ids);
}

/** Rows `at` of x [N, H], differentiable on every backend (wasm has no gradient for gather: a one-hot matmul there). */
export function pickRows(x: tf.Tensor, at: number[]): tf.Tensor {
  const idx = tf.tensor1d(at, 'int32');
  return onWasm() ? mm(oneHotFloat(idx, x.shape[0]!), x) : tf.gather(x, idx);
}

/** RMSNorm over the last axis; without `w` the weight is left to the caller (decoding folds it into the next projection). */
export function rmsNorm(x: tf.Tensor, w: tf.Tensor | undefined, eps: number): tf.Tensor {
  const ms = x.square().mean(-1, true);
  const normed = x.mul(tf.rsqrt(ms.add(eps)));
  return w ? normed.mul(w) : normed;
}

/** Rotary cos/sin tables for integer positions [B, T] → each [B, 1, T, D] (HF layout: halves, not interleaved). */
export function ropeTables(params: { positions: Int32Array; batch: number; len: number; headDim: number; theta: number }): { cos: tf.Tensor; sin: tf.Tensor } {
  const { positions, batch, len, headDim, theta } = params;
  const cos = new Float32Array(batch * len * headDim);
  const sin = new Float32Array(batch * len * headDim);
  const row = ropeRow(headDim, theta);
  for (let p = 0; p < batch * len; p++) row(positions[p], cos.subarray(p * headDim, (p + 1) * headDim), sin.subarray(p * headDim, (p + 1) * headDim));
  return { cos: tf.tensor4d(cos, [batch, 1, len, headDim]), sin: tf.tensor4d(sin, [batch, 1, len, headDim]) };
}

/** Writes the rotary cos/sin of one position (length headDim, both halves equal) into the given rows. */
export function ropeRow(headDim: number, theta: number): (position: number, cos: Float32Array, sin: Float32Array) => void {
  const half = headDim / 2;
  const inv = Array.from({ length: half }, (_, i) => Math.fround(1 / Math.pow(theta, (2 * i) / headDim)));
  return (position, cos, sin) => {
    for (let i = 0; i < half; i++) {
      // float32 product like the reference, so large positions match
      const f = Math.fround(Math.fround(position) * inv[i]);
      cos[i] = cos[half + i] = Math.cos(f);
      sin[i] = sin[half + i] = Math.sin(f);
    }
  };
}

/** x [B, H, T, D]: x·cos + rotate_half(x)·sin. */
export function applyRope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const d = x.shape[3]!;
  const [x1, x2] = tf.split(x, [d / 2, d / 2], 3);
  return x.mul(cos).add(tf.concat([x2.neg(), x1], 3).mul(sin));
}

/**
 * A LoRA update of one projection, kept factored: x·W + scale·(dropout(x)·A)·B with A [in, r], B [r, out]. Never
 * forming W + scale·A·B keeps the frozen W off the gradient path, so its [in, out] gradient is not computed.
 */
export interface LowRank {
  a: tf.Tensor;
  b: tf.Tensor;
  scale: number;
  /** training only; a fixed seed so a recomputed layer (gradient checkpointing) draws the same mask */
  dropout?: { rate: number; seed: number };
}

/** The low-rank term scale·(dropout(x)·A)·B of x [N, in]. */
export function lowRankDelta(x: tf.Tensor, lr: LowRank): tf.Tensor {
  const xin = lr.dropout && lr.dropout.rate > 0 ? tf.dropout(x, lr.dropout.rate, undefined, lr.dropout.seed) : x;
  return mm(mm(xin, lr.a), lr.b).mul(lr.scale);
}

/** linear(x, w, b) plus an optional low-rank update. */
export function linearLowRank(x: tf.Tensor, w: tf.Tensor, lr?: LowRank, b?: tf.Tensor): tf.Tensor {
  const y = linear(x, w, b);
  return lr ? y.add(lowRankDelta(x, lr)) : y;
}

/** Biases are all present (Qwen2) or all absent (Llama); `lora` holds adapters of some of the projections. */
export interface AttentionWeights {
  wq: tf.Tensor; bq?: tf.Tensor; wk: tf.Tensor; bk?: tf.Tensor; wv: tf.Tensor; bv?: tf.Tensor; wo: tf.Tensor;
  lora?: { q_proj?: LowRank; k_proj?: LowRank; v_proj?: LowRank; o_proj?: LowRank };
}

export interface AttentionInput {
  x: tf.Tensor; // [B·T, H]
  batch: number;
  w: AttentionWeights;
  heads: number;
  kvHeads: number;
  cos: tf.Tensor;
  sin: tf.Tensor;
  mask?: tf.Tensor; // additive [B, 1, 1, T, S]; omitted when every query may see every cached key
  past?: { k: tf.Tensor; v: tf.Tensor }; // [B, kvHeads, S - T, D]
  /** uncached passes: causal blocks of the queries, each over the keys it may see; `mask` is then unused */
  blocks?: AttentionBlock[];
}

/**
 * Queries [q0, q1), a block of equal-size blocks partitioning the positions, attend over the keys of blocks
 * `first` … their own: every key they may see lies there (causal), the rest is not computed.
 */
export interface AttentionBlock { q0: number; q1: number; first: number; mask: tf.Tensor /* additive [B, 1, 1, q1 - q0, q1 - blocks[first].q0] */ }

/**
 * Grouped-query attention. Query heads sharing a key/value head are adjacent (HF's repeat_kv order), so the
 * queries are regrouped to [B, kvHeads, rep·T, D] instead of repeating keys and values.
 */
export function attention(inp: AttentionInput): { out: tf.Tensor; k: tf.Tensor; v: tf.Tensor } {
  const { x, w, heads, kvHeads, cos, sin, mask, past, batch: B } = inp;
  const [N, H] = x.shape as [number, number];
  const T = N / B;
  const D = H / heads;
  const rep = heads / kvHeads;
  // one projection and one rotary pass for q, k and v together: fewer ops per decoded token
  const bias = w.bq && w.bk && w.bv ? tf.concat([w.bq, w.bk, w.bv], 0) : undefined;
  const qkvBase = linear(x, tf.concat([w.wq, w.wk, w.wv], 1), bias);
  const qkv = (w.lora?.q_proj || w.lora?.k_proj || w.lora?.v_proj ? qkvBase.add(qkvLowRank(x, w, heads * D, kvHeads * D)) : qkvBase)
    .reshape([B, T, heads + 2 * kvHeads, D])
    .transpose([0, 2, 1, 3]);
  const [qk, vNew] = tf.split(qkv, [heads + kvHeads, kvHeads], 1);
  const [q, kNew] = tf.split(applyRope(qk, cos, sin), [heads, kvHeads], 1);
  const k = past ? tf.concat([past.k, kNew], 2) : kNew;
  const v = past ? tf.concat([past.v, vNew], 2) : vNew;
  // scaling the queries, not the scores: T·D multiplies instead of T·S
  const q5 = q.mul(1 / Math.sqrt(D)).reshape([B, kvHeads, rep, T, D]);
  const attend = (qb: tf.Tensor, kb: tf.Tensor, vb: tf.Tensor, mb?: tf.Tensor) =>
    (onWasm() ? softmaxAttentionAutodiff : softmaxAttention)({ q: qb.reshape([B, kvHeads, rep * qb.shape[3]!, D]), k: kb, v: vb, mask: mb, rep }).reshape([B, kvHeads, rep, qb.shape[3]!, D]);
  let ctx5: tf.Tensor;
  // one block is attended whole: tfjs' split gradient fails on a single part
  if (!inp.blocks || inp.blocks.length === 1) ctx5 = attend(q5, k, v, inp.blocks ? inp.blocks[0].mask : mask);
  else {
    // causal attention block by block skips the keys no query of a block can see (about half of them, more with
    // packed segments) in the scores, the softmax and their gradients; split and concat, not slices, so the
    // gradients are concats and splits, not zero-padded copies
    const sizes = inp.blocks.map((b) => b.q1 - b.q0);
    const [qs, ks, vs] = [tf.split(q5, sizes, 3), tf.split(k, sizes, 2), tf.split(v, sizes, 2)];
    const upTo = (xs: tf.Tensor[], first: number, i: number) => (first === i ? xs[i] : tf.concat(xs.slice(first, i + 1), 2));
    ctx5 = tf.concat(inp.blocks.map((b, i) => attend(qs[i], upTo(ks, b.first, i), upTo(vs, b.first, i), b.mask)), 3);
  }
  const ctx = ctx5.reshape([B, heads, T, D]).transpose([0, 2, 1, 3]).reshape([N, H]);
  return { out: linearLowRank(ctx, w.wo, w.lora?.o_proj), k, v };
}

/** Grouped queries q [B, kv, rep·t, D] (already scaled), keys and values [B, kv, s, D], an additive mask [B, 1, 1, t, s]. */
export interface AttentionOperands { q: tf.Tensor; k: tf.Tensor; v: tf.Tensor; mask?: tf.Tensor; rep: number }

/** softmax(q·kᵀ + mask): the attention weights [B, kv, rep·t, s]. */
function attentionProbs({ q, k, mask, rep }: AttentionOperands): tf.Tensor {
  const scores = linearTransposed(q, k);
  if (!mask) return tf.softmax(scores, -1);
  const [B, kv, rt, s] = scores.shape as number[];
  return tf.softmax(scores.reshape([B, kv, rep, rt / rep, s]).add(mask), -1).reshape([B, kv, rt, s]);
}

/** softmax(q·kᵀ + mask)·v through tfjs' own gradients (wasm: its transposed matmuls are slow, `mm` avoids them). */
function softmaxAttentionAutodiff(op: AttentionOperands): tf.Tensor {
  return mm(attentionProbs(op), op.v);
}

/**
 * softmax(q·kᵀ + mask)·v with its gradient written out. The weights P are kept from the forward pass, and the score
 * gradient is P∘(dP − rowsum(dO∘O)) (FlashAttention's identity rowsum(dP∘P) = rowsum(dO∘O)): one subtract and one
 * multiply over the [rep·t, s] scores instead of autodiff's four passes through softmax and the mask add. Score-sized
 * tensors dominate the element-wise work of a training pass. The mask is a constant (no gradient).
 */
export function softmaxAttention(op: AttentionOperands): tf.Tensor {
  const f = tf.customGrad(((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, save: tf.GradSaveFunc) => {
    const p = attentionProbs({ ...op, q, k });
    const o = tf.matMul(p, v);
    save([q, k, v, p, o]);
    return {
      value: o,
      gradFunc: (dO: tf.Tensor, [sq, sk, sv, sp, so]: tf.Tensor[]) => {
        const ds = sp.mul(tf.matMul(dO, sv, false, true).sub(dO.mul(so).sum(-1, true)));
        return [tf.matMul(ds, sk), tf.matMul(ds, sq, true, false), tf.matMul(sp, dO, true, false)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor;
  return f(op.q, op.k, op.v);
}

/** The q/k/v adapters' terms side by side like the fused projection's output (zeros where a module has none). */
function qkvLowRank(x: tf.Tensor, w: AttentionWeights, qWidth: number, kvWidth: number): tf.Tensor {
  const N = x.shape[0]!;
  const part = (lr: LowRank | undefined, width: number) => (lr ? lowRankDelta(x, lr) : tf.zeros([N, width]));
  return tf.concat([part(w.lora?.q_proj, qWidth), part(w.lora?.k_proj, kvWidth), part(w.lora?.v_proj, kvWidth)], 1);
}

export function swiglu(x: tf.Tensor, gate: tf.Tensor, up: tf.Tensor, down: tf.Tensor, lora?: { gate_proj?: LowRank; up_proj?: LowRank; down_proj?: LowRank }): tf.Tensor {
  const g = linearLowRank(x, gate, lora?.gate_proj);
  return linearLowRank(g.mul(tf.sigmoid(g)).mul(linearLowRank(x, up, lora?.up_proj)), down, lora?.down_proj);
}
