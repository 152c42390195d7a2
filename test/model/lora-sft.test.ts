import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import { initBackend } from '../../model/backend';
import { getCheckpoint, modelFromFiles } from '../../model/checkpoint';
import { LoraAdapters } from '../../model/lora';
import { LoraOptions } from '../../model/lora-config';
import { loadModelRecord } from '../../model/model-registry';
import { AdamW } from '../../model/optim';
import { packExamples, toBatch } from '../../model/sft-data';
import { evalLoss, trainStep } from '../../model/sft-trainer';
import { repoSftDataset } from './sft-dataset';

before(async () => { await initBackend(); });

const MODEL = 'smollm2-135m-instruct';

test('a few LoRA SFT steps on the pretrained 135M model lower the loss on real repo data', { timeout: 240_000 }, async () => {
  const record = await loadModelRecord(MODEL);
  if (!record) throw new Error(`model ${MODEL} is not imported: run make setup (scripts/setup.d/55-default-model.sh)`);
  const { model, tokenizer } = modelFromFiles(await getCheckpoint(new ArtifactStore(), record.checkpoint), MODEL);
  assert.equal(model.gradientCheckpointing, true, 'on by default at 135M parameters');
  const adapters = LoraAdapters.init(model, LoraOptions.parse({ r: 8, alpha: 16 }), 0);
  model.adapters = adapters;
  // plain prompt + response text; the loss is on the response (the agent's Thought / Action / Action Input)
  const examples = (repoSftDataset(24) as unknown as { prompt: string; response: string }[]).map((e) => {
    const p = tokenizer.encode(e.prompt), r = [...tokenizer.encode(e.response), tokenizer.eosId];
    // long prompts lose their start so an example fits a row (seqLen + 1 tokens)
    return { ids: [...p, ...r].slice(-257), train: [...p.map(() => false), ...r.map(() => true)].slice(-257) };
  });
  const rows = packExamples(examples, 256);
  const train = rows.slice(0, 2), held = rows.slice(2, 4);
  assert.equal(held.length, 2);
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 });
  const heldBefore = await evalLoss({ model, rows: held, batchSize: 2 });
  const losses: number[] = [];
  const t0 = Date.now();
  for (let step = 0; step < 6; step++) losses.push((await trainStep({ model, optimizer, batch: toBatch(train), lr: 2e-3, clipNorm: 1, microBatchSize: 1 })).loss);
  const heldAfter = await evalLoss({ model, rows: held, batchSize: 2 });
  console.log(`LoRA SFT ${MODEL}: ${adapters.namedVariables().size} adapter tensors; train loss ${losses.map((l) => l.toFixed(3)).join(' → ')}; held-out ${heldBefore.toFixed(3)} → ${heldAfter.toFixed(3)}; ${((Date.now() - t0) / 6000).toFixed(1)} s/step (2 × 256 tokens)`);
  const base = new Map([...model.params].slice(0, 3).map(([n, v]) => [n, v.dataSync().slice(0, 8)]));
  assert.ok(losses[losses.length - 1] < losses[0] * 0.8, `train loss ${losses[0]} → ${losses[losses.length - 1]}`);
  assert.ok(heldAfter < heldBefore, `held-out loss ${heldBefore} → ${heldAfter}`);
  // only the adapters moved
  const { model: fresh } = modelFromFiles(await getCheckpoint(new ArtifactStore(), record.checkpoint), MODEL);
  for (const [n, v] of base) assert.deepEqual(v, fresh.p(n).dataSync().slice(0, 8), `${n} unchanged`);
  for (const m of [model, fresh]) m.dispose();
  adapters.dispose();
  optimizer.dispose();
});
