import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../model/backend';
import { AdamW } from '../../model/optim';
import { Qwen2Model } from '../../model/qwen2';
import { packExamples } from '../../model/sft-data';
import { SftInput } from '../../model/sft-params';
import { totalSteps, trainLoop } from '../../model/sft-trainer';
import { tinyConfig } from './fixtures';

before(async () => { await initBackend(); });

const hyper = (over: Partial<SftInput>) => SftInput.omit({ dataset: true }).parse(over);

test('totalSteps: epochs × ceil(rows / batch), capped by maxSteps', { timeout: 10_000 }, () => {
  assert.equal(totalSteps(99, hyper({ epochs: 1, batchSize: 4 })), 25);
  assert.equal(totalSteps(99, hyper({ epochs: 2, batchSize: 4 })), 50);
  assert.equal(totalSteps(99, hyper({ epochs: 2, batchSize: 4, maxSteps: 12 })), 12);
  assert.equal(totalSteps(10, hyper({ epochs: 1, batchSize: 4, maxSteps: 12 })), 3);
  assert.throws(() => hyper({ maxSteps: 0 }), /maxSteps/);
});

test('trainLoop runs exactly maxSteps optimizer steps', { timeout: 60_000 }, async () => {
  const model = Qwen2Model.init(tinyConfig(), 1);
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0 });
  const examples = Array.from({ length: 12 }, (_, i) => ({ ids: [1, 2, 3 + i, 4 + i, 5, 6], train: [false, false, false, true, true, true] }));
  const rows = packExamples(examples, 6);
  const steps: number[] = [];
  await trainLoop({ model, optimizer, rows, hyper: hyper({ epochs: 3, batchSize: 2, maxSteps: 4, warmupSteps: 1 }), startStep: 0, attempt: 1, afterStep: async (r) => { steps.push(r.step); } });
  assert.deepEqual(steps, [1, 2, 3, 4]);
  model.dispose();
  optimizer.dispose();
});
