import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../model/backend';
import { checkpointFiles, modelFromFiles } from '../../model/checkpoint';
import { LoraAdapters } from '../../model/lora';
import { LoraOptions } from '../../model/lora-config';
import { AdamW } from '../../model/optim';
import { Qwen2Model } from '../../model/qwen2';
import { tinyConfig, tinyTokenizer } from './fixtures';

before(async () => { await initBackend(); });

/** A model worker loads a policy per PPO iteration and restores the optimizer per update: none of it may stay behind. */
test('loading, training and disposing a model, its optimizer and adapters leaves no tensor behind', { timeout: 60_000 }, () => {
  const tokenizer = tinyTokenizer();
  const files = (() => {
    const m = Qwen2Model.init(tinyConfig({ vocab_size: tokenizer.vocabSize }), 1);
    const f = checkpointFiles(m, tokenizer);
    m.dispose();
    return f;
  })();
  const before = tf.memory().numTensors;
  for (let round = 0; round < 3; round++) {
    const { model } = modelFromFiles(files);
    const adapters = LoraAdapters.init(model, LoraOptions.parse({ r: 2, alpha: 4 }), 0);
    const opt = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    const grads = new Map([...model.params].map(([n, p]) => [n, tf.onesLike(p)] as const));
    opt.apply(model.params, grads, 1e-3);
    tf.dispose([...grads.values()]);
    const restored = new AdamW(opt.opts);
    restored.load(opt.state(), opt.step);
    restored.dispose();
    opt.dispose();
    adapters.dispose();
    model.dispose();
  }
  assert.equal(tf.memory().numTensors, before, `${tf.memory().numTensors - before} tensors left after three load/train/dispose rounds`);
});
