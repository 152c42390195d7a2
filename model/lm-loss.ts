import * as tf from '@tensorflow/tfjs';
import { linear, linearTransposed, oneHotFloat, pickRows } from './layers';
import { ForwardInput, Qwen2Model } from './qwen2';
import { recompute } from './recompute';

/** log p(target_t | prefix) at every position, [B, T] (differentiable: PPO's ratio uses it). */
export function tokenLogProbs(model: Qwen2Model, inp: ForwardInput, targets: number[][]): tf.Tensor {
  const { hidden } = model.forward(inp);
  const [B, T, H] = hidden.shape as [number, number, number];
  return targetLogProbs(model, hidden.reshape([B * T, H]), targets.flat()).reshape([B, T]);
}

/** Floats of one chunk's logits (64 MB): at 135M shapes the full [B·T, V] logits and their softmax are GBs. */
const HEAD_CHUNK_FLOATS = 1 << 24;

/**
 * log p(target) [N] of hidden states [N, H] through the output head. With gradient checkpointing a chunk of
 * positions at a time, each chunk recomputed in the backward pass, so at most one chunk of logits exists at once.
 * The output head is differentiated only when the model trains its own weights (not with adapters).
 */
function targetLogProbs(model: Qwen2Model, h: tf.Tensor, targets: number[]): tf.Tensor {
  const [N, H] = h.shape as [number, number];
  const tied = model.config.tie_word_embeddings;
  const head = model.p(tied ? 'model.embed_tokens.weight' : 'lm_head.weight');
  const V = model.config.vocab_size;
  const ids = tf.tensor1d(targets, 'int32');
  const picked = ([x, w = head]: tf.Tensor[], [t]: tf.Tensor[]) => {
    const logits = tied ? linearTransposed(x, w) : linear(x, w);
    return tf.logSoftmax(logits, -1).mul(oneHotFloat(t, V)).sum(-1);
  };
  if (!model.gradientCheckpointing) return picked([h], [ids]);
  const rows = Math.max(1, Math.floor(HEAD_CHUNK_FLOATS / V));
  const parts: tf.Tensor[] = [];
  for (let s = 0; s < N; s += rows) {
    const n = Math.min(rows, N - s);
    const inputs = model.adapters ? [h.slice([s, 0], [n, H])] : [h.slice([s, 0], [n, H]), head];
    parts.push(recompute(picked, inputs, [ids.slice([s], [n])]));
  }
  return tf.concat(parts, 0);
}

/** A packed training batch: `weights` is 1 on response tokens (the loss) and 0 on prompt and padding. */
export interface TokenBatch extends ForwardInput {
  targets: number[][];
  weights: number[][];
}

/**
 * Mean negative log-likelihood over the weighted (response) tokens. Only those positions go through the output
 * head: in SFT rows most positions are prompt (weight 0), and the head is a fifth of the model's work per position.
 */
export function lmLoss(model: Qwen2Model, batch: TokenBatch): tf.Scalar {
  const T = batch.ids[0].length;
  const at = batch.weights.flatMap((row, b) => row.flatMap((w, t) => (w !== 0 ? [b * T + t] : [])));
  const total = batch.weights.flat().reduce((a, b) => a + b, 0);
  if (at.length === 0 || total === 0) throw new Error('batch has no response tokens to train on');
  const { hidden } = model.forward(batch);
  const h = pickRows(hidden.reshape([batch.ids.length * T, model.config.hidden_size]), at);
  const w = tf.tensor1d(at.map((i) => batch.weights[Math.floor(i / T)][i % T]));
  return targetLogProbs(model, h, at.map((i) => batch.targets[Math.floor(i / T)][i % T])).mul(w).sum().neg().div(total) as tf.Scalar;
}
