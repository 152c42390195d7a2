import * as tf from '@tensorflow/tfjs';
import { oneHotFloat } from './layers';
import { ForwardInput, Qwen2Model } from './qwen2';

/** log p(target_t | prefix) at every position, [B, T] (differentiable: PPO's ratio uses it). */
export function tokenLogProbs(model: Qwen2Model, inp: ForwardInput, targets: number[][]): tf.Tensor {
  const { hidden } = model.forward(inp);
  return pickTargets(tf.logSoftmax(model.logits(hidden), -1), targets);
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
