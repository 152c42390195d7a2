import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ArtifactStore } from '../../activities/artifact-store';
import { sftTrain } from '../../activities/model/sft';
import { getCheckpoint, modelFromFiles } from '../../model/checkpoint';
import { generate } from '../../model/generate';
import { SftInput, SftResult, StepRecord } from '../../model/sft-params';
import { repoSftDataset, toJsonl } from './sft-dataset';

test('SFT on a small real dataset lowers held-out loss and stores the loss curve', async () => {
  process.env.MLAGENT_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-sft-'));
  const store = new ArtifactStore();
  const examples = repoSftDataset();
  const dataset = await store.put(toJsonl(examples), 'sft-dataset');
  const input = SftInput.parse({
    dataset, tokenizerVocabSize: 512, epochs: 8, batchSize: 8, seqLen: 128, lr: 5e-3, warmupSteps: 3, checkpointEvery: 10, heldOutFraction: 0.2,
    modelConfig: { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 512 },
  });
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const t0 = Date.now();
  const res: SftResult = await env.run(sftTrain, input);
  console.log(`SFT: ${examples.length} examples, ${res.steps} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s; held-out loss ${res.heldOutLoss?.before.toFixed(3)} → ${res.heldOutLoss?.after.toFixed(3)}`);
  assert.ok(res.heldOutLoss, 'held-out loss measured');
  assert.ok(res.heldOutLoss.after < res.heldOutLoss.before * 0.6, `held-out loss ${res.heldOutLoss.before} → ${res.heldOutLoss.after} did not drop by 40%`);
  const curve = (await store.getJson<{ steps: StepRecord[] }>(res.lossCurve)).steps;
  assert.deepEqual(curve.map((s) => s.step), Array.from({ length: res.steps }, (_, i) => i + 1));
  assert.equal(beats.length, res.steps, 'one heartbeat per step');
  const { model, tokenizer } = modelFromFiles(await getCheckpoint(store, res.checkpoint));
  const [g] = generate(model, tokenizer, [examples[0].prompt], { temperature: 0, maxNewTokens: 80 });
  console.log(`greedy sample after SFT: ${JSON.stringify(g.text)} (${g.stop})`);
  assert.match(g.text, /^Thought: /);
  model.dispose();
});
