import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { resolveSftBase } from '../../activities/model/policy-files';
import { loadModelRecord } from '../../model/model-registry';
import { DEFAULT_BASE_MODEL, SftInput } from '../../model/sft-params';

const dataset = { sha256: 'a'.repeat(64), size: 1, kind: 'sft-dataset' };

test('SFT starts from the imported SmolLM2 unless a checkpoint or a fresh config is given', { timeout: 10_000 }, async () => {
  const record = await loadModelRecord(DEFAULT_BASE_MODEL);
  assert.ok(record, `${DEFAULT_BASE_MODEL} is imported (make setup)`);
  assert.deepEqual(await resolveSftBase(SftInput.parse({ dataset })), { kind: 'model', name: DEFAULT_BASE_MODEL, checkpoint: record.checkpoint });
  assert.deepEqual(await resolveSftBase(SftInput.parse({ dataset, base: record.checkpoint })), { kind: 'checkpoint', checkpoint: record.checkpoint });
  assert.deepEqual(await resolveSftBase(SftInput.parse({ dataset, modelConfig: { hidden_size: 32 } })), { kind: 'fresh' });
  assert.deepEqual(await resolveSftBase(SftInput.parse({ dataset, tokenizerVocabSize: 400 })), { kind: 'fresh' });
  assert.equal(SftInput.parse({ dataset }).seqLen, 2048);
  await assert.rejects(resolveSftBase(SftInput.parse({ dataset, base: record.checkpoint, modelConfig: {} })), /choose one base: base or modelConfig\/tokenizerVocabSize/);
  await assert.rejects(resolveSftBase(SftInput.parse({ dataset, base: record.checkpoint, baseModel: 'x' })), /choose one base: base or baseModel/);
});

test('a default base that is not imported fails at once, naming make setup', { timeout: 10_000 }, async () => {
  const home = process.env.MLAGENT_HOME;
  process.env.MLAGENT_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-nobase-'));
  try {
    await assert.rejects(resolveSftBase(SftInput.parse({ dataset })), (err: Error & { nonRetryable?: boolean }) => {
      assert.match(err.message, /SFT base model "smollm2-135m-instruct" is not imported .*run `make setup`/);
      assert.equal(err.nonRetryable, true);
      return true;
    });
    await assert.rejects(resolveSftBase(SftInput.parse({ dataset, baseModel: 'mine' })), /"mine" is not imported .*--name mine/);
  } finally {
    if (home === undefined) delete process.env.MLAGENT_HOME;
    else process.env.MLAGENT_HOME = home;
  }
});
