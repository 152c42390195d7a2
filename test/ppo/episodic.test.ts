import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { ArtifactStore } from '../../activities/artifact-store';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { failureMessage } from '../../core/failure-message';
import type { PpoIterationMetrics } from '../../core/ppo-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import type { PpoResult } from '../../workflows/ppo';
import { PPO_FIXTURE_TASK as TASK } from './fixture';
import { usePpoStack } from './ppo-stack';

const EPISODES = 2;
const MAX_STEPS = 3;

const ppo = usePpoStack();

test(`episodic PPO, 2 iterations of ${EPISODES} episodes × ≤ ${MAX_STEPS} steps on a real task (tiny model): one container per episode, every step rewarded, one update over all steps`, { timeout: 900_000 }, async () => {
  const input = ppo.fixture.input({ mode: 'episodic', maxSteps: MAX_STEPS, iterations: 2, continueAsNewEvery: 1, statesPerIteration: EPISODES, minibatchSize: 4 });
  const handle = await ppo.stack.env.client.workflow.start('ppo', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-ppo-episodic-${Date.now()}`, args: [input] });
  const result = (await handle.result().catch((err: unknown) => assert.fail(`ppo failed: ${failureMessage(err)}`))) as PpoResult;
  assert.equal(result.iterations, 2);
  assert.notEqual(result.policy.sha256, ppo.fixture.checkpoint.sha256, 'the policy was updated');

  const log = (await new ArtifactStore().get(result.metricsLog)).toString().trim().split('\n').map((l) => JSON.parse(l) as PpoIterationMetrics);
  assert.deepEqual(log.map((m) => m.iteration), [0, 1]);
  for (const m of log) {
    const actions = Object.values(m.kinds).reduce((a, b) => a + b, 0) + m.leftOut;
    // every episode's every step is a row: more than one a episode (only Final Answer ends one early)
    assert.ok(actions > EPISODES && actions <= EPISODES * MAX_STEPS, `${actions} actions: ${JSON.stringify(m.kinds)}`);
    assert.ok(m.steps >= 1 && m.tokens > 0 && Number.isFinite(m.valueLoss), JSON.stringify(m));
  }
  assert.ok(log.some((m) => (m.kinds.non_edit ?? 0) >= 1), `some List Files ran in a sandbox and earned 0.5: ${JSON.stringify(log.map((m) => m.kinds))}`);

  // the last run (iteration 2): a batched rollout per step, joined for one update; a container per episode, not per action
  const history = (await handle.fetchHistory()).events ?? [];
  const count = (name: string) => history.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name).length;
  const rows = Object.values(log[1].kinds).reduce((a, b) => a + b, 0) + log[1].leftOut;
  assert.ok(count('ppoRollout') >= 2 && count('ppoRollout') <= MAX_STEPS, `${count('ppoRollout')} rollouts`);
  assert.equal(count('ppoJoinRollouts'), 1);
  assert.equal(count('ppoUpdate'), 1);
  assert.ok(count('openWorkspace') <= EPISODES, `${count('openWorkspace')} containers opened for ${EPISODES} episodes`);
  assert.ok(count('runAction') > count('openWorkspace') && count('runAction') <= rows, `${count('runAction')} actions run, ${rows} rows`);
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, { events: history }, handle.workflowId);
  const left = await dockerClient().listContainers({ all: true, filters: { label: [`mlagent.task=${TASK}`] } });
  assert.equal(left.filter((c) => c.Labels['mlagent.episode']?.startsWith(handle.workflowId)).length, 0, 'every episode container was closed');
});

test('episodes stop at their time limit: the step in flight is cancelled, no step starts after it, the iteration still ends with its update', { timeout: 300_000 }, async () => {
  // 1 ms: a step (a generation, a container, an action) takes longer, so the limit always fires inside the rollout
  const input = ppo.fixture.input({ mode: 'episodic', maxSteps: MAX_STEPS, maxMinutes: 1 / 60_000, iterations: 1, statesPerIteration: EPISODES });
  const handle = await ppo.stack.env.client.workflow.start('ppo', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-ppo-episodic-limit-${Date.now()}`, args: [input] });
  const result = (await handle.result().catch((err: unknown) => assert.fail(`ppo failed: ${failureMessage(err)}`))) as PpoResult;
  assert.equal(result.iterations, 1);
  const [m] = (await new ArtifactStore().get(result.metricsLog)).toString().trim().split('\n').map((l) => JSON.parse(l) as PpoIterationMetrics);
  const rows = Object.values(m.kinds).reduce((a, b) => a + b, 0) + m.leftOut;
  assert.ok(rows < EPISODES * MAX_STEPS, `${rows} rows: the limit cut the episodes short`);

  const history = (await handle.fetchHistory()).events ?? [];
  const fired = history.findIndex((e) => e.timerFiredEventAttributes);
  assert.ok(fired >= 0, 'the time limit fired');
  const after = history.slice(fired).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
  for (const stepActivity of ['ppoRollout', 'openWorkspace', 'runAction', 'evaluateWorkspace']) assert.ok(!after.includes(stepActivity), `${stepActivity} scheduled after the limit: ${after.join(', ')}`);
  assert.equal(after.filter((name) => name === 'ppoUpdate').length, 1, 'the iteration ended with its update');
  const left = await dockerClient().listContainers({ all: true, filters: { label: [`mlagent.task=${TASK}`] } });
  assert.equal(left.filter((c) => c.Labels['mlagent.episode']?.startsWith(handle.workflowId)).length, 0, 'every episode container was closed');
});

test('a pool without initial states fails an episodic run, naming why', { timeout: 120_000 }, async () => {
  const store = new ArtifactStore();
  const later = (await store.get(ppo.fixture.statesPool)).toString().split('\n').filter((l) => l.includes('"step":1')).join('\n') + '\n';
  const statesPool = await store.put(later, 'states-pool');
  const handle = await ppo.stack.env.client.workflow.start('ppo', {
    taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-ppo-episodic-bad-${Date.now()}`, args: [ppo.fixture.input({ statesPool, mode: 'episodic', iterations: 1 })],
  });
  const err = await handle.result().then(() => undefined, (e: unknown) => e);
  assert.match(failureMessage(err), /no initial \(step 0\) states/);
});
