import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import { initBackend } from '../../model/backend';
import { checkpointFiles, putCheckpoint } from '../../model/checkpoint';
import { Qwen2Model } from '../../model/qwen2';
import { tinyConfig, tinyTokenizer } from './fixtures';

before(async () => {
  process.env.MLAGENT_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-policy-cache-'));
  await initBackend();
});

async function storedPolicy(seed: number) {
  const tokenizer = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tokenizer.vocabSize }), seed);
  const ref = await putCheckpoint(new ArtifactStore(), checkpointFiles(model, tokenizer));
  model.dispose();
  return ref;
}

test('the model worker keeps the policies it served last: interleaved policies are not reloaded, the oldest is evicted', { timeout: 120_000 }, async () => {
  const [a, b, c] = [await storedPolicy(1), await storedPolicy(2), await storedPolicy(3)];
  process.env.MLAGENT_POLICY_CACHE = '2';
  // the worker reads the bound when it loads the module
  const { policyFor } = await import('../../activities/model/policy-act');
  const pa = await policyFor(a);
  const pb = await policyFor(b);
  assert.equal(await policyFor(a), pa, 'a is still loaded after b');
  assert.equal(await policyFor(b), pb, 'b is still loaded after a');
  await policyFor(c); // evicts a, the least recently used
  assert.equal(await policyFor(b), pb, 'b stays');
  assert.notEqual(await policyFor(a), pa, 'a was evicted and loads anew');
  delete process.env.MLAGENT_POLICY_CACHE;
});
