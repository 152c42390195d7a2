import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tsToMs } from '@temporalio/common/lib/time';
import { Worker } from '@temporalio/worker';
import { ArtifactStore } from '../../activities/artifact-store';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { failureMessage } from '../../core/failure-message';
import type { PpoInput, PpoIterationMetrics } from '../../core/ppo-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { MLAGENT_PPO_ITERATION, MLAGENT_PPO_MEAN_REWARD } from '../../core/search-attributes';
import type { PpoProgress, PpoResult } from '../../workflows/ppo';
import { PPO_FIXTURE_TASK as TASK } from './fixture';
import { usePpoStack } from './ppo-stack';

const ppo = usePpoStack();

const input = (over: Partial<PpoInput> = {}): PpoInput => ppo.fixture.input(over);

test('2 PPO iterations on a real task (B=2, n=1, tiny model): actions run in the sandbox, the policy is updated, continue-as-new carries refs', { timeout: 600_000 }, async () => {
  const handle = await ppo.stack.env.client.workflow.start('ppo', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-ppo-${Date.now()}`, args: [input({ iterations: 2, continueAsNewEvery: 1 })] });
  const result = (await handle.result().catch((err: unknown) => assert.fail(`ppo failed: ${failureMessage(err)}`))) as PpoResult;
  assert.equal(result.iterations, 2);
  assert.equal(result.stopped, false);
  assert.notEqual(result.policy.sha256, ppo.fixture.checkpoint.sha256, 'the policy was updated');
  assert.deepEqual(Object.keys(result.rewardScales), [TASK]);

  const log = (await new ArtifactStore().get(result.metricsLog)).toString().trim().split('\n').map((l) => JSON.parse(l) as PpoIterationMetrics);
  assert.deepEqual(log.map((m) => m.iteration), [0, 1]);
  for (const m of log) {
    assert.equal(Object.values(m.kinds).reduce((a, b) => a + b, 0) + m.leftOut, 2, JSON.stringify(m));
    assert.ok(m.steps >= 1 && m.tokens > 0 && Number.isFinite(m.valueLoss) && Number.isFinite(m.approxKl), JSON.stringify(m));
    assert.ok(m.seconds && m.seconds.generate > 0 && m.seconds.execute >= 0 && m.seconds.update > 0, `phase seconds: ${JSON.stringify(m.seconds)}`);
  }
  const ran = log.reduce((n, m) => n + (m.kinds.non_edit ?? 0), 0);
  assert.ok(ran >= 1, `some sampled List Files ran in the sandbox and earned 0.5: ${JSON.stringify(log.map((m) => m.kinds))}`);
  for (const m of log.filter((x) => x.kinds.non_edit === 2)) assert.equal(m.meanReward, 0.5);

  // the chain: the first run continued as new after one iteration; the last run answers the query
  const first = (await ppo.stack.env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory()).events ?? [];
  const carried = first.at(-1)?.workflowExecutionContinuedAsNewEventAttributes;
  assert.ok(carried, 'the first run continued as new');
  const progress = await handle.query<PpoProgress>('progress');
  assert.equal(progress.iteration, 2);
  const attributes = (await handle.describe()).typedSearchAttributes;
  assert.equal(attributes.get(MLAGENT_PPO_ITERATION), 2, 'the iteration search attribute follows the chain');
  assert.equal(attributes.get(MLAGENT_PPO_MEAN_REWARD), log[1].meanReward, 'the mean-reward search attribute is the last iteration\'s');
  assert.deepEqual(progress.metrics.map((m) => m.iteration), [1]);
  const history = (await handle.fetchHistory()).events ?? [];
  const scheduled = history.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
  assert.ok(scheduled.includes('ppoRollout') && scheduled.includes('ppoUpdate'), scheduled.join());
  // the states' containers open while the policy generates (as many as `concurrency` lets run: both)
  const rolloutId = String(history.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'ppoRollout')?.eventId);
  const generated = history.findIndex((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === rolloutId);
  assert.ok(generated > 0, 'the rollout completed');
  const restoredEarly = history.slice(0, generated).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'openWorkspace');
  assert.equal(restoredEarly.length, 2, `${restoredEarly.length} restores scheduled before the actions were generated`);
  // a phase's seconds hold its model call: the workflow reads its clock before the call is scheduled and after it completed
  const span = (type: string) => {
    const at = (e: (typeof history)[number]) => tsToMs(e.eventTime);
    const s = history.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type)!;
    const c = history.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(s.eventId))!;
    return (at(c) - at(s)) / 1000;
  };
  assert.ok(log[1].seconds!.generate >= span('ppoRollout') - 0.001, `generate ${log[1].seconds!.generate} s < the rollout call's ${span('ppoRollout')} s`);
  assert.ok(log[1].seconds!.update >= span('ppoUpdate') - 0.001, `update ${log[1].seconds!.update} s < the update call's ${span('ppoUpdate')} s`);
  // both runs replay deterministically against the current workflow code
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, { events: first }, handle.workflowId);
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, { events: history }, handle.workflowId);
  const left = await dockerClient().listContainers({ all: true, filters: { label: ['mlagent.task=co2'] } });
  assert.equal(left.filter((c) => c.Labels['mlagent.episode']?.startsWith(handle.workflowId)).length, 0, 'every restored workspace was closed');
});

test('the stop signal ends the run after the iteration in progress, keeping its update', { timeout: 600_000 }, async () => {
  const handle = await ppo.stack.env.client.workflow.start('ppo', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-ppo-stop-${Date.now()}`, args: [input({ iterations: 50 })] });
  // wait (bounded) until the first update is in, then ask it to stop
  for (let i = 0; i < 600 && (await handle.query<PpoProgress>('progress')).iteration < 1; i++) await new Promise((r) => setTimeout(r, 500));
  await handle.signal('stop');
  const result = (await handle.result()) as PpoResult;
  assert.equal(result.stopped, true);
  assert.ok(result.iterations >= 1 && result.iterations <= 2, `${result.iterations} iterations`);
  const log = (await new ArtifactStore().get(result.metricsLog)).toString().trim().split('\n');
  assert.equal(log.length, result.iterations);
});

test('invalid ppo input fails at once naming the field', { timeout: 60_000 }, async () => {
  const handle = await ppo.stack.env.client.workflow.start('ppo', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-ppo-bad-${Date.now()}`, args: [{ ...input(), clipEps: 0 } as PpoInput] });
  const err = await handle.result().then(() => undefined, (e: unknown) => e);
  assert.match(failureMessage(err), /invalid ppo input: clipEps/);
});
