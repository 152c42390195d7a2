import * as tf from '@tensorflow/tfjs';
import { linear, linearTransposed, oneHotFloat } from './layers';
import { ForwardInput, Qwen2Model } from './qwen2';
import { recompute } from './recompute';

/** log p(target_t | prefix) at every position, [B, T] (differentiable: PPO's ratio uses it). */
export function tokenLogProbs(model: Qwen2Model, inp: ForwardInput, targets: number[][]): tf.Tensor {
  const { hidden } = model.forward(inp);
  if (model.gradientCheckpointing) return chunkedTargetLogProbs(model, hidden, targets);
  return pickTargets(tf.logSoftmax(model.logits(hidden), -1), targets);
}

/** Floats of one chunk's logits (64 MB): at 135M shapes the full [B·T, V] logits and their softmax are GBs. */
const HEAD_CHUNK_FLOATS = 1 << 24;

/**
 * The same log-probs as `pickTargets(logSoftmax(logits))`, a chunk of positions at a time, each chunk recomputed
 * in the backward pass, so at most one chunk of logits exists at once. The output head is differentiated only
 * when the model trains its own weights (not with adapters).
 */
function chunkedTargetLogProbs(model: Qwen2Model, hidden: tf.Tensor, targets: number[][]): tf.Tensor {
  const [B, T, H] = hidden.shape as [number, number, number];
  const tied = model.config.tie_word_embeddings;
  const head = model.p(tied ? 'model.embed_tokens.weight' : 'lm_head.weight');
  const V = model.config.vocab_size;
  const rows = Math.max(1, Math.floor(HEAD_CHUNK_FLOATS / V));
  const h = hidden.reshape([B * T, H]);
  const ids = tf.tensor1d(targets.flat(), 'int32');
  const parts: tf.Tensor[] = [];
  for (let s = 0; s < B * T; s += rows) {
    const n = Math.min(rows, B * T - s);
    const chunk = ([x, w = head]: tf.Tensor[], [t]: tf.Tensor[]) => {
      const logits = tied ? linearTransposed(x, w) : linear(x, w);
      return tf.logSoftmax(logits, -1).mul(oneHotFloat(t, V)).sum(-1);
    };
    const inputs = model.adapters ? [h.slice([s, 0], [n, H])] : [h.slice([s, 0], [n, H]), head];
    parts.push(recompute(chunk, inputs, [ids.slice([s], [n])]));
  }
  return tf.concat(parts, 0).reshape([B, T]);
}

/** The targets' entries [B, T] of log-probabilities [B, T, V] (PPO also needs the full rows, for the entropy). */
export function pickTargets(logp: tf.Tensor, targets: number[][]): tf.Tensor {
  const oneHot = oneHotFloat(tf.tensor2d(targets, undefined, 'int32'), logp.shape[2]!);
  return logp.mul(oneHot).sum(-1);
}

/** A packed training batch: `weights` is 1 on response tokens (the loss) and 0 on prompt and padding. */
export interface TokenBatch extends ForwardInput {
  targets: number[][];
  weights: number[][];
}

/** Mean negative log-likelihood over the weighted (response) tokens. */
export function lmLoss(model: Qwen2Model, batch: TokenBatch): tf.Scalar {
  const w = tf.tensor2d(batch.weights);
  const total = batch.weights.flat().reduce((a, b) => a + b, 0);
  if (total === 0) throw new Error('batch has no response tokens to train on');
  return tokenLogProbs(model, batch, batch.targets).mul(w).sum().neg().div(total) as tf.Scalar;
}
