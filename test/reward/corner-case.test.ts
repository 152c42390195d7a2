import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ArtifactStore } from '../../activities/artifact-store';
import { Sandbox } from '../../activities/sandbox/sandbox';
import { createSandboxActivities, type EvaluateResult } from '../../activities/sandbox-activities';
import { prepareTask } from '../../activities/tasks/prepare';
import { STARTER_SCRIPT } from '../../core/episode-schema';
import { computeReward } from '../../core/reward';
import { kindAfterEvaluation } from '../../core/step-kind';

test('an edit whose evaluation hit a resource limit is a corner case; other outcomes keep their kind', { timeout: 5_000 }, () => {
  assert.equal(kindAfterEvaluation('edit', { resourceLimit: 'timeout' }), 'corner_case');
  assert.equal(kindAfterEvaluation('edit', { resourceLimit: 'out_of_memory' }), 'corner_case');
  assert.equal(kindAfterEvaluation('edit', { resourceLimit: 'disk_full' }), 'corner_case');
  // no limit hit: the missing metric makes the reward module score a failed execution
  assert.equal(kindAfterEvaluation('edit', {}), 'edit');
  assert.deepEqual(computeReward({ action_kind: 'edit', m_prev: 1, m_next: null, m_init: 1, m_best: 0.5 }), { reward: 0, kind: 'error' });
  // an undo re-scored past the limit was still a valid non-edit action
  assert.equal(kindAfterEvaluation('non_edit', { resourceLimit: 'timeout' }), 'non_edit');
  assert.deepEqual(computeReward({ action_kind: kindAfterEvaluation('edit', { resourceLimit: 'timeout' }) }), { reward: 0.5, kind: 'corner_case' });
});

test('a real edited train.py that sleeps past a 2 s script timeout: timeout reported, not cached, rewarded 0.5', { timeout: 120_000 }, async () => {
  const store = new ArtifactStore();
  const sandbox = await Sandbox.create({ workspaceDir: (await prepareTask('co2')).publicDir, labels: { 'mlagent.test': `corner-case-${process.pid}` } });
  let snapshot;
  try {
    // unique per run, so no metric-cache entry from an earlier run can answer
    await sandbox.writeFile(STARTER_SCRIPT, `import time\n# ${process.pid}-${Date.now()}\ntime.sleep(60)\n`);
    snapshot = await store.put(await sandbox.snapshot(), 'workspace-snapshot');
  } finally {
    await sandbox.destroy();
  }
  const activities = createSandboxActivities({ hostQueue: 'unused', store, llm: null });
  const env = new MockActivityEnvironment();
  const evaluate = () => env.run(activities.evaluateWorkspace, { task: 'co2', snapshot, scriptTimeoutSec: 2 }) as Promise<EvaluateResult>;
  const first = await evaluate();
  assert.equal(first.metric, null);
  assert.equal(first.resourceLimit, 'timeout');
  assert.match(first.error ?? '', /timeout after 2 s/);
  assert.ok(first.seconds < 30, `stopped at the limit, not at the end of the sleep (${first.seconds} s)`);
  const again = await evaluate();
  assert.equal(again.cached, false, 'a resource-limit outcome depends on the limit, so it is not cached');
  const kind = kindAfterEvaluation('edit', first);
  assert.deepEqual(computeReward({ action_kind: kind, m_prev: 1, m_next: first.metric, m_init: 1, m_best: 0.5 }), { reward: 0.5, kind: 'corner_case' });
});

test('a real edited train.py that fills the workspace: disk full reported, not cached, rewarded 0.5', { timeout: 180_000 }, async () => {
  const store = new ArtifactStore();
  const sandbox = await Sandbox.create({ workspaceDir: (await prepareTask('co2')).publicDir, labels: { 'mlagent.test': `corner-case-disk-${process.pid}` } });
  let snapshot;
  try {
    await sandbox.writeFile(STARTER_SCRIPT, `# ${process.pid}-${Date.now()}\nwith open('fill.bin', 'wb') as f:\n    while True:\n        f.write(b'x' * (1 << 24))\n`);
    snapshot = await store.put(await sandbox.snapshot(), 'workspace-snapshot');
  } finally {
    await sandbox.destroy();
  }
  const activities = createSandboxActivities({ hostQueue: 'unused', store, llm: null });
  const res = (await new MockActivityEnvironment().run(activities.evaluateWorkspace, { task: 'co2', snapshot, scriptTimeoutSec: 120 })) as EvaluateResult;
  assert.equal(res.metric, null);
  assert.equal(res.resourceLimit, 'disk_full', res.error);
  assert.equal(res.cached, false);
  assert.deepEqual(computeReward({ action_kind: kindAfterEvaluation('edit', res), m_prev: 1, m_next: res.metric, m_init: 1, m_best: 0.5 }), { reward: 0.5, kind: 'corner_case' });
});
