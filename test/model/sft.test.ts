import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ArtifactStore } from '../../activities/artifact-store';
import { sftTrain } from '../../activities/model/sft';
import { tensorboardDir } from '../../activities/model/tensorboard';
import { getCheckpoint, modelFromFiles } from '../../model/checkpoint';
import { PromptRenderer } from '../../model/chat-prompt';
import { generate } from '../../model/generate';
import { SftInput, SftResult, StepRecord } from '../../model/sft-params';
import { repoSftDataset, toJsonl } from './sft-dataset';
import { readTensorboardScalars } from '../helpers/tensorboard';

test('SFT on a small real dataset lowers held-out loss and stores the loss curve', { timeout: 600_000 }, async () => {
  process.env.MLAGENT_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-sft-'));
  const store = new ArtifactStore();
  const examples = repoSftDataset();
  const dataset = await store.put(toJsonl(examples), 'sft-dataset');
  const input = SftInput.parse({
    dataset, tokenizerVocabSize: 512, epochs: 8, batchSize: 8, seqLen: 512, lr: 5e-3, warmupSteps: 3, checkpointEvery: 10, heldOutFraction: 0.2,
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
  // A beat after every step (its loss), and more inside steps and the held-out passes (the last finished step's).
  const beatSteps = (beats as { step: number; loss?: number }[]).map((b) => b.step);
  assert.ok(beatSteps.every((s, i) => i === 0 || s >= beatSteps[i - 1]), `heartbeat steps never go back: ${beatSteps.join(',')}`);
  for (const rec of curve) assert.ok((beats as { step: number; loss?: number }[]).some((b) => b.step === rec.step && b.loss === rec.loss), `a heartbeat for step ${rec.step}`);
  assert.ok(beats.length > res.steps, `heartbeats within steps too (${beats.length} beats, ${res.steps} steps)`);

  // TensorBoard's own reader sees one sft/loss point per step, equal to the curve (float32 in the event file).
  const events = readTensorboardScalars(tensorboardDir('test', 'sft'));
  assert.deepEqual(events['sft/loss']?.map((e) => e.step), curve.map((s) => s.step));
  events['sft/loss']!.forEach((e, i) => assert.ok(Math.abs(e.value - curve[i]!.loss) < 1e-5 * Math.max(1, curve[i]!.loss), `step ${e.step}`));
  assert.equal(events['sft/held_out_loss_after']?.length, 1);
  const { model, tokenizer } = modelFromFiles(await getCheckpoint(store, res.checkpoint));
  // The dataset's lines are of the first format (prompt, response): the prompt is the user message, rendered plainly.
  const [g] = generate(model, tokenizer, [new PromptRenderer(tokenizer).prompt([{ role: 'user', content: examples[0].prompt }])], { temperature: 0, maxNewTokens: 80 });
  console.log(`greedy sample after SFT: ${JSON.stringify(g.text)} (${g.stop})`);
  assert.match(g.text, /^Thought: /);
  model.dispose();
});
