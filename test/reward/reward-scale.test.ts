import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import { loadTask } from '../../activities/tasks/registry';
import type { CollectInput } from '../../core/collect-schema';
import type { RewardScale, StepRecord } from '../../core/episode-schema';
import { failureMessage } from '../../core/failure-message';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { computeReward } from '../../core/reward';
import type { CollectResult } from '../../workflows/collect';
import { startTestStack, type TestStack } from '../helpers/stack';

const TASK = 'co2';

let stack: TestStack;
before(async () => {
  stack = await startTestStack();
});
after(async () => {
  await stack?.stop();
});

test('a collection fixes m_init and m_best at its start: recorded in its result and in every step, rewards recompute from them', { timeout: 600_000 }, async () => {
  const spec = loadTask(TASK);
  // Twice the shipped gap: a scale no task-best record can produce, so only the run's own input can explain it.
  const scale: RewardScale = { mInit: spec.m_init, mBest: spec.m_init + 2 * (spec.m_best - spec.m_init) };
  const input: CollectInput = {
    tasks: [TASK], ideasPerTask: 1, minCandidates: 5, episodesPerTask: 1, ideasPerEpisode: { min: 1, max: 1 }, concurrency: 1, seed: 9,
    limits: { maxSteps: 6 }, rewardScales: { [TASK]: scale },
  };
  const handle = await stack.env.client.workflow.start('collectTrajectories', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-reward-scale-${Date.now()}`, args: [input] });
  const result = (await handle.result().catch((err: unknown) => assert.fail(`collection failed: ${failureMessage(err)}`))) as CollectResult;
  assert.deepEqual(result.rewardScales, { [TASK]: scale });
  assert.ok(result.episodes[0]?.ok, result.episodes[0]?.error);

  const steps = (await new ArtifactStore().get(result.trajectories)).toString().trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
  assert.ok(steps.length >= 3, `${steps.length} steps`);
  for (const s of steps) {
    assert.deepEqual(s.rewardScale, scale, `step ${s.step} records the run's scale`);
    const { reward } = computeReward({
      action_kind: s.kind, m_prev: s.state.metric, m_next: s.metricAfter, m_init: s.rewardScale.mInit, m_best: s.rewardScale.mBest, higher_is_better: spec.metric.direction === 'higher',
    });
    assert.equal(s.reward, reward, `step ${s.step} (${s.action?.name}, ${s.kind}) reward recomputes from the recorded scale`);
  }
  assert.ok(steps.some((s) => s.kind === 'edit'), `an edit was rewarded: ${steps.map((s) => s.action?.name)}`);
});
