import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ArtifactStore } from '../../activities/artifact-store';
import { sftTrain } from '../../activities/model/sft';
import type { ArtifactRef } from '../../core/artifact-ref';
import { getCheckpoint } from '../../model/checkpoint';
import { SftHeartbeat, SftInput, SftResult, StepRecord } from '../../model/sft-params';
import { repoSftDataset, toJsonl } from './sft-dataset';

/** Runs the SFT activity as attempt `attempt` with `beat` as the last heartbeat, collecting its heartbeats and log. */
async function runSft(input: SftInput, beat?: SftHeartbeat): Promise<{ res: SftResult; beats: SftHeartbeat[]; log: string[] }> {
  const env = new MockActivityEnvironment(beat ? { attempt: 2, heartbeatDetails: beat } : {});
  const beats: SftHeartbeat[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(SftHeartbeat.parse(d)));
  const log: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => { log.push(args.join(' ')); original(...args); };
  try {
    return { res: await env.run(sftTrain, input), beats, log };
  } finally {
    console.log = original;
  }
}

function flipByte(store: ArtifactStore, ref: ArtifactRef): void {
  const file = store.pathOf(ref);
  const bytes = fs.readFileSync(file);
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  fs.writeFileSync(file, bytes);
}

function truncate(store: ArtifactStore, ref: ArtifactRef): void {
  fs.truncateSync(store.pathOf(ref), Math.floor(ref.size / 3));
}

test('a resumed SFT run rejects a corrupt or truncated checkpoint by hash and falls back to the one before, or the start; ending as an undisturbed run', { timeout: 600_000 }, async () => {
  process.env.MLAGENT_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-sft-fallback-'));
  const store = new ArtifactStore();
  const dataset = await store.put(toJsonl(repoSftDataset(48)), 'sft-dataset');
  const input = SftInput.parse({
    dataset, tokenizerVocabSize: 512, epochs: 1, batchSize: 4, seqLen: 1024, lr: 3e-3, warmupSteps: 1, checkpointEvery: 2, heldOutFraction: 0,
    modelConfig: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 1024 },
  });

  const clean = await runSft(input);
  const curve = async (r: SftResult) => (await store.getJson<{ steps: StepRecord[] }>(r.lossCurve)).steps.map((s) => [s.step, s.loss]);
  assert.ok(clean.res.steps >= 5, `needs two intermediate checkpoints, got ${clean.res.steps} steps`);
  const beat = clean.beats.find((b) => b.step === 4)!;
  assert.ok(beat.checkpoint && beat.previous, `the step-4 heartbeat names its checkpoint and the one before: ${JSON.stringify(beat)}`);
  const step2 = clean.beats.find((b) => b.step === 2)!.checkpoint!;
  assert.equal(beat.previous.sha256, step2.sha256);

  // One flipped byte in the step-4 checkpoint: rejected by hash (the tar and safetensors would still parse).
  flipByte(store, beat.checkpoint);
  await assert.rejects(getCheckpoint(store, beat.checkpoint), (err: unknown) => err instanceof ApplicationFailure && err.type === 'ArtifactCorrupt' && err.nonRetryable);
  const fellBack = await runSft(input, beat);
  assert.equal(fellBack.res.resumedFromStep, 2, 'resumed from the step-2 checkpoint');
  assert.deepEqual(fellBack.res.rejectedCheckpoints?.map((r) => r.checkpoint.sha256), [beat.checkpoint.sha256]);
  assert.match(fellBack.res.rejectedCheckpoints![0].error, /corrupt on disk/);
  assert.ok(fellBack.log.some((l) => l.includes(`checkpoint ${beat.checkpoint!.sha256.slice(0, 12)} rejected`) && l.includes(`falling back to the previous checkpoint ${step2.sha256.slice(0, 12)}`)), fellBack.log.join('\n'));
  assert.deepEqual(await curve(fellBack.res), await curve(clean.res), 'each step once, with the undisturbed losses');
  assert.equal(fellBack.res.checkpoint.sha256, clean.res.checkpoint.sha256, 'the same final weights as the undisturbed run');

  // Both truncated: back to the start (a fresh model from the seed), still the same run.
  truncate(store, beat.checkpoint);
  truncate(store, step2);
  const restarted = await runSft(input, beat);
  assert.equal(restarted.res.resumedFromStep, 0);
  assert.deepEqual(restarted.res.rejectedCheckpoints?.map((r) => r.checkpoint.sha256), [beat.checkpoint.sha256, step2.sha256]);
  assert.ok(restarted.log.some((l) => l.includes('falling back to the start of the run')), restarted.log.join('\n'));
  assert.equal(restarted.res.checkpoint.sha256, clean.res.checkpoint.sha256);

  // A corrupt base has nothing safe to fall back to: the run fails at once, non-retryably, naming it.
  const { modelConfig: _m, tokenizerVocabSize: _t, ...rest } = input;
  flipByte(store, clean.res.checkpoint);
  await assert.rejects(
    runSft(SftInput.parse({ ...rest, base: clean.res.checkpoint })),
    (err: unknown) => err instanceof ApplicationFailure && err.type === 'ArtifactCorrupt' && err.nonRetryable && err.message.includes(clean.res.checkpoint.sha256),
  );
});
