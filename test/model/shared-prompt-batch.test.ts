import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../model/backend';
import { continuationBatch, continuationLogProbs, type TokenPair } from '../../model/generate';
import { tokenLogProbs } from '../../model/lm-loss';
import { scoreResponses } from '../../model/ppo-update';
import { Qwen2Model } from '../../model/qwen2';
import { sharedPromptBatch } from '../../model/shared-prompt-batch';
import { tinyConfig } from './fixtures';

before(async () => { await initBackend(); });

const ids = (seed: number, n: number) => Array.from({ length: n }, (_, i) => (seed * 37 + i * 11) % 300 + 5);
// three actions of one state (one a single token), an action of another state, and a fourth of the first
const promptA = ids(1, 23), promptB = ids(2, 17);
const pairs: TokenPair[] = [
  { prompt: promptA, continuation: ids(3, 6) },
  { prompt: promptA, continuation: ids(4, 1) },
  { prompt: promptB, continuation: ids(5, 9) },
  { prompt: promptA, continuation: ids(6, 4) },
];

describe('shared-prompt packing', { timeout: 120_000 }, () => {
  test('one row per distinct prompt, each prompt encoded once', () => {
    const b = sharedPromptBatch(pairs);
    assert.equal(b.input.ids.length, 2);
    assert.equal(b.input.ids[0].filter((_, t) => b.input.segments[0][t] !== 0).length, 23 + 5 + 0 + 3);
    assert.deepEqual(b.targets, pairs.flatMap((p) => p.continuation));
    assert.equal(b.at.length, b.targets.length);
  });

  test('log-probs and values equal scoring each pair alone (with and without gradient checkpointing)', () => {
    for (const checkpointing of [false, true]) {
      const model = Qwen2Model.init(tinyConfig({ vocab_size: 320 }), 7);
      model.gradientCheckpointing = checkpointing;
      try {
        const packed = scoreResponses(model, pairs);
        const alone = pairs.map((p) => continuationLogProbs(model, [p])[0]);
        const values = pairs.map((p) => scoreResponses(model, [p]).values[0]);
        pairs.forEach((_, i) => {
          assert.equal(packed.logprobs[i].length, alone[i].length);
          packed.logprobs[i].forEach((x, t) => assert.ok(Math.abs(x - alone[i][t]) < 1e-4, `pair ${i} token ${t}: packed ${x} vs alone ${alone[i][t]}`));
          packed.values[i].forEach((x, t) => assert.ok(Math.abs(x - values[i][t]) < 1e-4, `pair ${i} value ${t}: packed ${x} vs alone ${values[i][t]}`));
        });
      } finally {
        model.dispose();
      }
    }
  });

  test('the gradient of the summed log-probs equals the unpacked batch’s', () => {
    const model = Qwen2Model.init(tinyConfig({ vocab_size: 320 }), 8);
    model.gradientCheckpointing = true;
    const vars = model.lmVariables();
    try {
      const packedGrads = tf.variableGrads(() => {
        const b = sharedPromptBatch(pairs);
        const { hidden } = model.forward(b.input);
        const [B, T, H] = hidden.shape as [number, number, number];
        const logp = tf.logSoftmax(model.logits(tf.gather(hidden.reshape([B * T, H]), tf.tensor1d(b.at, 'int32')).reshape([1, b.at.length, H])).reshape([b.at.length, -1]), -1);
        return logp.mul(tf.oneHot(tf.tensor1d(b.targets, 'int32'), 320)).sum() as tf.Scalar;
      }, vars);
      const plainGrads = tf.variableGrads(() => {
        const batch = continuationBatch(pairs);
        return tokenLogProbs(model, batch, batch.targets).mul(tf.tensor2d(batch.weights)).sum() as tf.Scalar;
      }, vars);
      for (const v of vars) {
        const a = packedGrads.grads[v.name], b = plainGrads.grads[v.name];
        const diff = a.sub(b).abs().max().dataSync()[0], scale = b.abs().max().dataSync()[0];
        assert.ok(diff <= 1e-4 * Math.max(1, scale), `${v.name}: max |Δgrad| ${diff} (max |grad| ${scale})`);
      }
      tf.dispose([packedGrads.value, plainGrads.value, ...Object.values(packedGrads.grads), ...Object.values(plainGrads.grads)]);
    } finally {
      model.dispose();
    }
  });
});
