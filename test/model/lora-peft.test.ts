import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../model/backend';
import { checkpointFiles } from '../../model/checkpoint';
import { LORA_FIXTURE_IDS, loraFixture } from '../../model/reference/lora-fixture';
import { Tokenizer } from '../../model/tokenizer';

before(async () => { await initBackend(); });

/** Recorded by model/reference/record-lora-golden.sh (transformers 4.46.3 + peft 0.13.2 on torch 1.13, float32). */
const golden = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden/lora-peft.json'), 'utf8')) as {
  adapter_model_sha256: string; model_sha256: string; ids: number[][]; logits: number[]; max_abs_adapter_effect: number;
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('our LoRA adapter files give the logits Python peft gives over the same base', { timeout: 60_000 }, () => {
  const { model, adapters } = loraFixture();
  // the same tensors as the recorded fixture, byte for byte
  assert.equal(sha(adapters.files('mlagent-lora-fixture').get('adapter_model.safetensors')!), golden.adapter_model_sha256);
  assert.equal(sha(checkpointFiles(model, Tokenizer.train({ texts: ['lora fixture'], vocabSize: 300 })).get('model.safetensors')!), golden.model_sha256);
  assert.deepEqual(golden.ids, LORA_FIXTURE_IDS);
  const B = LORA_FIXTURE_IDS.length, T = LORA_FIXTURE_IDS[0].length;
  const run = () => tf.tidy(() => {
    const { hidden } = model.forward({ ids: LORA_FIXTURE_IDS, segments: LORA_FIXTURE_IDS.map((r) => r.map(() => 1)), positions: Array.from({ length: B }, () => Array.from({ length: T }, (_, i) => i)) });
    return model.logits(hidden).dataSync() as Float32Array;
  });
  const diff = (l: Float32Array) => l.reduce((w, x, i) => Math.max(w, Math.abs(x - golden.logits[i])), 0);
  const adapted = diff(run());
  console.log(`max |Δlogit| vs peft: ${adapted.toExponential(2)} (the adapter moves logits by up to ${golden.max_abs_adapter_effect.toFixed(3)})`);
  assert.ok(golden.max_abs_adapter_effect > 0.1, 'the golden adapter is not a no-op');
  assert.ok(adapted < 1e-4, `logits differ from peft's by ${adapted}`);
  adapters.mergeInto(model);
  const merged = diff(run());
  assert.ok(merged < 1e-4, `merged logits differ from peft's by ${merged}`);
  model.dispose();
  adapters.dispose();
});
