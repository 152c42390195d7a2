import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ppoUpdate, type PpoUpdateResult } from '../../activities/model/ppo';
import { tensorboardDir } from '../../activities/model/tensorboard';
import { StepKind } from '../../core/episode-schema';
import { PpoUpdateHyper, PpoUpdateMetrics } from '../../core/ppo-schema';
import { readTensorboardScalars } from '../helpers/tensorboard';
import { tinyPolicyHome } from './fixture';

test('ppoUpdate writes every iteration metric and the actions per outcome kind as TensorBoard scalars under the pipeline run, one step per iteration', { timeout: 300_000 }, async () => {
  const { store, tokenizer, checkpoint: reference } = await tinyPolicyHome({ name: 'ppo-tb', seed: 7 });
  const rows = ['Action: List Files', 'Action: Final Answer', 'Action: Read File'].map((a) => ({ prompt: tokenizer.encode('Thought: next'), continuation: tokenizer.encode(a) }));
  const rollouts = await store.putJson({ rows }, 'ppo-rollouts');
  // The pipeline's PPO child: its events go next to the pipeline's SFT ones.
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'pipeline-tb/ppo', runId: 'r' } });
  const rewards = [[0.5, null, 1], [0, 0.5, 0.5]];
  const kinds: (StepKind | null)[][] = [['non_edit', null, 'edit'], ['invalid', 'corner_case', 'non_edit']];
  const results: PpoUpdateResult[] = [];
  let policy = reference;
  for (const [i, r] of rewards.entries()) {
    const res = (await env.run(ppoUpdate, { policy, reference, rollouts, rewards: r, kinds: kinds[i], hyper: PpoUpdateHyper.parse({ epochs: 1, minibatchSize: 2 }), seed: results.length })) as PpoUpdateResult;
    results.push(res);
    policy = res.policy;
  }

  const logdir = tensorboardDir('pipeline-tb/ppo', 'ppo');
  assert.equal(logdir, path.join(process.env.MLAGENT_HOME!, 'tensorboard', 'pipeline-tb', 'ppo'));
  const events = readTensorboardScalars(logdir);
  for (const field of [...Object.keys(PpoUpdateMetrics.shape), 'meanReward', 'leftOut']) {
    assert.deepEqual(events[`ppo/${field}`]?.map((e) => e.step), [0, 1], `ppo/${field}: ${JSON.stringify(Object.keys(events))}`);
  }
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  results.forEach((res, i) => {
    for (const [k, v] of Object.entries(res.metrics)) near(events[`ppo/${k}`]![i]!.value, v, `ppo/${k} at ${i}`);
  });
  assert.deepEqual(events['ppo/meanReward']!.map((e) => +e.value.toFixed(5)), [0.75, 0.33333]);
  assert.deepEqual(events['ppo/leftOut']!.map((e) => e.value), [1, 0]);
  // actions per outcome kind, every kind at every iteration (0 when none), the left-out row in none
  const counts = Object.fromEntries(StepKind.options.map((k) => [k, events[`ppo/kinds/${k}`]?.map((e) => [e.step, e.value])]));
  assert.deepEqual(counts, { invalid: [[0, 0], [1, 1]], error: [[0, 0], [1, 0]], non_edit: [[0, 1], [1, 1]], corner_case: [[0, 0], [1, 1]], edit: [[0, 1], [1, 0]] });
});
