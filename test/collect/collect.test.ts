import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ArtifactStore } from '../../activities/artifact-store';
import { Sandbox } from '../../activities/sandbox/sandbox';
import { createSandboxActivities, type EvaluateResult } from '../../activities/sandbox-activities';
import { PoolState } from '../../core/collect-schema';
import { failureMessage } from '../../core/failure-message';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import type { CollectInput } from '../../core/collect-schema';
import type { CollectResult } from '../../workflows/collect';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
before(async () => {
  stack = await startTestStack();
});
after(async () => {
  await stack?.stop();
});

test('a small real collection yields a states pool whose snapshots restore and whose metrics re-score identically', async () => {
  const input: CollectInput = { tasks: ['co2'], ideasPerTask: 2, episodesPerTask: 1, ideasPerEpisode: { min: 1, max: 1 }, concurrency: 1, seed: 5 };
  const handle = await stack.env.client.workflow.start('collectTrajectories', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-collect-${Date.now()}`, args: [input] });
  const result = (await handle.result().catch((err: unknown) => assert.fail(`collection failed: ${failureMessage(err)}`))) as CollectResult;
  assert.equal(result.episodes.length, 1);
  assert.ok(result.episodes[0].ok, result.episodes[0].error);

  const store = new ArtifactStore();
  const states = (await store.get(result.statesPool)).toString().trim().split('\n').map((l) => PoolState.parse(JSON.parse(l)));
  assert.equal(states.length, result.counts.states);
  assert.ok(states.length >= 5, `${states.length} states`);
  assert.equal(result.counts.sftPairs, states.length);
  // Model-agnostic chat messages: system (instructions, tools), user (the state), assistant (the expert's action).
  const sft = (await store.get(result.sft)).toString().trim().split('\n').map((l) => JSON.parse(l) as { messages: { role: string; content: string }[] });
  assert.deepEqual(sft[0].messages.map((m) => m.role), ['system', 'user', 'assistant']);
  assert.match(sft[0].messages[1]!.content, /Research problem:/);
  assert.match(sft[0].messages[2]!.content, /^Thought: .*\nAction: List Files\nAction Input: /);

  const activities = createSandboxActivities({ hostQueue: 'unused' });
  const env = new MockActivityEnvironment();
  for (const s of new Map(states.map((x) => [x.snapshot.sha256, x])).values()) {
    const sandbox = await Sandbox.create({ workspaceTar: await store.get(s.snapshot) });
    try {
      assert.equal(createHash('sha256').update(await sandbox.snapshot()).digest('hex'), s.snapshot.sha256, 'snapshot restores byte-identical');
    } finally {
      await sandbox.destroy();
    }
    if (s.metric === null) continue;
    const rescored = (await env.run(activities.evaluateWorkspace, { task: s.task, snapshot: s.snapshot, useCache: false })) as EvaluateResult;
    assert.equal(rescored.cached, false);
    assert.ok(rescored.metric !== null && Math.abs(rescored.metric - s.metric) <= 1e-9 * Math.max(1, Math.abs(s.metric)), `state ${s.step}: ${rescored.metric} vs ${s.metric}`);
  }
});

test('invalid collection input fails at once naming the field', async () => {
  const handle = await stack.env.client.workflow.start('collectTrajectories', {
    taskQueue: ORCHESTRATOR_QUEUE,
    workflowId: `it-collect-bad-${Date.now()}`,
    args: [{ tasks: [], concurrency: 0 } as CollectInput],
  });
  const err = await handle.result().then(() => undefined, (e: unknown) => e);
  assert.match(failureMessage(err), /invalid collectTrajectories input: tasks: .*; concurrency/);
});
