import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../model/backend';
import { lmLoss, TokenBatch } from '../../model/lm-loss';
import { LoraAdapters } from '../../model/lora';
import { LoraOptions } from '../../model/lora-config';
import { AdamW } from '../../model/optim';
import { Qwen2Model } from '../../model/qwen2';
import { trainStep } from '../../model/sft-trainer';
import { tinyConfig } from './fixtures';

before(async () => { await initBackend(); });

/** Packed rows with two segments, padding and prompt tokens (weight 0), like SFT batches. */
const batch: TokenBatch = {
  ids: [[5, 9, 12, 40, 7, 3, 8, 1], [8, 8, 100, 2, 6, 0, 0, 0], [17, 4, 4, 90, 33, 21, 2, 9]],
  targets: [[9, 12, 40, 7, 3, 11, 1, 2], [8, 100, 2, 6, 9, 0, 0, 0], [4, 4, 90, 33, 21, 2, 9, 5]],
  weights: [[0, 1, 1, 0, 1, 1, 1, 1], [0, 1, 1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 1, 1, 1, 1]],
  segments: [[1, 1, 1, 2, 2, 2, 2, 2], [1, 1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1]],
  positions: [[0, 1, 2, 0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 0, 0, 0], [0, 1, 2, 3, 4, 5, 6, 7]],
};

function gradsOf(model: Qwen2Model): { loss: number; grads: Map<string, Float32Array> } {
  const params = model.trainableParameters();
  const { value, grads } = tf.variableGrads(() => lmLoss(model, batch), [...params.values()]);
  const out = new Map<string, Float32Array>();
  for (const [name, v] of params) out.set(name, grads[v.name].dataSync() as Float32Array);
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: out };
}

function assertClose(a: Map<string, Float32Array>, b: Map<string, Float32Array>, tol: number, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: same parameters`);
  for (const [name, x] of a) {
    const y = b.get(name)!;
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
    assert.ok(worst <= tol, `${what}: ${name} differs by ${worst}`);
  }
}

for (const tied of [false, true])
  test(`checkpointed gradients equal stored-activation gradients (tiny config, tied head ${tied})`, { timeout: 60_000 }, () => {
    const model = Qwen2Model.init(tinyConfig({ tie_word_embeddings: tied }), 3);
    assert.equal(model.gradientCheckpointing, false, 'off by default below 50M parameters');
    const plain = gradsOf(model);
    model.gradientCheckpointing = true;
    const ckpt = gradsOf(model);
    assert.ok(Math.abs(plain.loss - ckpt.loss) < 1e-6, `loss ${plain.loss} vs ${ckpt.loss}`);
    assert.equal(plain.grads.size, model.params.size - 2, 'every language-model parameter has a gradient');
    assertClose(plain.grads, ckpt.grads, 1e-5, 'checkpointed');
    model.dispose();
  });

test('checkpointed LoRA gradients equal stored-activation ones, and only adapters get gradients', { timeout: 60_000 }, () => {
  const model = Qwen2Model.init(tinyConfig({ attention_bias: false }), 4);
  const adapters = LoraAdapters.init(model, LoraOptions.parse({ r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj', 'o_proj', 'down_proj'] }), 1);
  // B = 0 would make A's gradient zero; random B exercises both factors
  for (const [name, v] of adapters.namedVariables()) if (name.includes('lora_B')) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 7));
  model.adapters = adapters;
  const plain = gradsOf(model);
  model.gradientCheckpointing = true;
  const ckpt = gradsOf(model);
  assert.equal(plain.grads.size, 2 * 4 * 2);
  assert.ok([...plain.grads.keys()].every((n) => n.includes('.lora_')));
  assertClose(plain.grads, ckpt.grads, 1e-5, 'checkpointed LoRA');
  model.dispose();
  adapters.dispose();
});

test('micro-batches with gradient accumulation take the same step as the whole batch', { timeout: 60_000 }, async () => {
  const run = async (microBatchSize?: number) => {
    const model = Qwen2Model.init(tinyConfig(), 5);
    model.gradientCheckpointing = true;
    const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 });
    const r = await trainStep({ model, optimizer, batch, lr: 1e-3, clipNorm: 0.5, microBatchSize });
    const after = new Map([...model.params].map(([n, v]) => [n, v.dataSync() as Float32Array]));
    model.dispose();
    optimizer.dispose();
    return { ...r, after };
  };
  const whole = await run(), micro = await run(1);
  assert.ok(Math.abs(whole.loss - micro.loss) < 1e-5, `loss ${whole.loss} vs ${micro.loss}`);
  assert.ok(Math.abs(whole.gradNorm - micro.gradNorm) < 1e-5 * whole.gradNorm, `grad norm ${whole.gradNorm} vs ${micro.gradNorm}`);
  // a micro-batch of the padded row is cut to its own length, so its sums round differently; Adam's first step
  // (about lr·g/|g|) magnifies that where |g| is near eps: 1% of the step (lr 1e-3)
  assertClose(whole.after, micro.after, 1e-5, 'weights after one step');
});

test('a checkpointed step, its layers’ gradients added up during the backward pass (gradientSink), equals a step with stored activations', { timeout: 60_000 }, async () => {
  const run = async (gradientCheckpointing: boolean) => {
    const model = Qwen2Model.init(tinyConfig(), 8);
    model.gradientCheckpointing = gradientCheckpointing;
    const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 });
    const r = await trainStep({ model, optimizer, batch, lr: 1e-3, clipNorm: 0.5, microBatchSize: 1 });
    assert.equal(model.gradientSink, undefined, 'the sink is only set during the step');
    const after = new Map([...model.params].map(([n, v]) => [n, v.dataSync() as Float32Array]));
    model.dispose();
    optimizer.dispose();
    return { ...r, after };
  };
  const stored = await run(false), sunk = await run(true);
  assert.ok(Math.abs(stored.gradNorm - sunk.gradNorm) < 1e-5 * stored.gradNorm, `grad norm ${stored.gradNorm} vs ${sunk.gradNorm}`);
  assertClose(stored.after, sunk.after, 1e-5, 'weights after one step');
});

test('no tensors leak across checkpointed training steps', { timeout: 60_000 }, async () => {
  const model = Qwen2Model.init(tinyConfig(), 6);
  model.gradientCheckpointing = true;
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 });
  await trainStep({ model, optimizer, batch, lr: 1e-3, clipNorm: 1, microBatchSize: 2 });
  const n = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await trainStep({ model, optimizer, batch, lr: 1e-3, clipNorm: 1, microBatchSize: 2 });
  assert.equal(tf.memory().numTensors, n);
  model.dispose();
  optimizer.dispose();
});

test('a training step awaits its afterMicroBatch hook once per micro-batch (the SFT activity heartbeats there)', { timeout: 60_000 }, async () => {
  const model = Qwen2Model.init(tinyConfig(), 7);
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 });
  let calls = 0;
  await trainStep({ model, optimizer, batch, lr: 1e-3, clipNorm: 1, microBatchSize: 1, afterMicroBatch: async () => { calls++; } });
  assert.equal(calls, batch.ids.length);
  model.dispose();
  optimizer.dispose();
});
