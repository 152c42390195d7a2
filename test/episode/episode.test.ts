import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { ArtifactStore } from '../../activities/artifact-store';
import { bankIdeas } from '../../activities/ideas/idea-bank';
import { loadTask, taskDir } from '../../activities/tasks/registry';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { Sandbox } from '../../activities/sandbox/sandbox';
import type { EpisodeInput, StepRecord } from '../../core/episode-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { failureMessage } from '../../core/failure-message';
import { startTestStack, type TestStack } from '../helpers/stack';

/** The fastest real task of the suite keeps the test short; any task works. */
const TASK = 'co2';

describe('runEpisode on a real dev server and the real Docker engine', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.stop();
  });

  const start = (input: unknown, id: string) =>
    stack.env.client.workflow.start('runEpisode', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `${id}-${Date.now()}`, args: [input as EpisodeInput] });

  test('a scripted episode completes, audits every action, stores restorable snapshots and leaves no container', async () => {
    const spec = loadTask(TASK);
    const idea = bankIdeas({ source: fs.readFileSync(path.join(taskDir(TASK), 'train.py'), 'utf8'), scriptName: 'train.py', taskType: spec.type, metric: spec.metric.name })[0];
    assert.ok(idea, 'the idea bank has an idea for the task');
    const handle = await start({ task: TASK, agent: { kind: 'scripted' }, seedIdeas: [idea], seed: 3 }, 'it-episode');
    const summary = await handle.result().catch((err: unknown) => assert.fail(`episode failed: ${failureMessage(err)}`));
    assert.equal(summary.endReason, 'final_answer');

    const store = new ArtifactStore();
    const steps = (await store.get(summary.trajectory)).toString().trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
    const names = steps.map((s) => s.action?.name);
    assert.equal(summary.steps, steps.length);
    assert.equal(names[0], 'List Files');
    assert.equal(names.at(-1), 'Final Answer');
    assert.ok(names.filter((n) => n === 'Execute Script').length >= 2, names.join(', '));
    assert.ok(steps.every((s) => s.kind !== 'invalid' && s.kind !== 'error'), `no step failed: ${steps.map((s) => s.kind)}`);
    const baseline = steps.find((s) => s.action?.name === 'Execute Script')!;
    assert.equal(typeof baseline.metricAfter, 'number', 'the baseline run was scored');
    const edit = steps.find((s) => s.action?.name === 'Edit Script')!;
    assert.equal(edit.kind, 'edit');
    assert.equal(typeof edit.metricAfter, 'number', 'the edited workspace was scored');
    assert.ok(edit.reward! > 0 && edit.reward! < 1, `edit reward ${edit.reward} is σ(α·Δm)`);
    steps.forEach((s, i) => assert.equal(s.state.history.length, i, 'each state carries the feedback history before it'));

    // One activity per action, each summarised by the action's name in the history (what the UI shows).
    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
    const runActions = scheduled.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runAction');
    assert.equal(runActions.length, steps.length);
    const summaries = runActions.map((e) => JSON.parse(Buffer.from(e.userMetadata?.summary?.data ?? []).toString()) as string);
    assert.deepEqual(summaries, steps.map((s) => s.action?.name));

    // Each stored snapshot restores into a fresh container as a byte-identical workspace.
    for (const ref of new Map(steps.map((s) => [s.snapshotAfter.sha256, s.snapshotAfter])).values()) {
      const sandbox = await Sandbox.create({ workspaceTar: await store.get(ref) });
      try {
        assert.equal(createHash('sha256').update(await sandbox.snapshot()).digest('hex'), ref.sha256);
      } finally {
        await sandbox.destroy();
      }
    }

    const left = await dockerClient().listContainers({ all: true, filters: { label: [`mlagent.episode=${handle.workflowId}`] } });
    assert.equal(left.length, 0, 'the episode container is removed');

    // The history replays deterministically against the current workflow code.
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history, handle.workflowId);
  });

  test('the step counter and the episode timer end episodes, keeping what was done', async () => {
    const counted = await (await start({ task: TASK, limits: { maxSteps: 2 } }, 'it-maxsteps')).result();
    assert.equal(counted.endReason, 'max_steps');
    assert.equal(counted.steps, 2);
    const timed = await (await start({ task: TASK, limits: { maxMinutes: 0.001 } }, 'it-timelimit')).result();
    assert.equal(timed.endReason, 'time_limit');
    assert.ok(timed.steps < 15);
    const left = await dockerClient().listContainers({ all: true, filters: { label: ['mlagent.task=co2'] } });
    assert.equal(left.filter((c) => c.Labels['mlagent.episode']?.startsWith('it-timelimit')).length, 0, 'the timed-out episode removed its container');
  });

  test('an unknown task fails at once with a clear, non-retryable error', async () => {
    const handle = await start({ task: 'no_such_task' }, 'it-unknown');
    const err = await handle.result().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String(failureMessage(err)), /unknown task 'no_such_task' \(known: .*co2/);
  });

  test('input failing the schema is rejected naming the field, and nothing is started', async () => {
    const handle = await start({ task: TASK, limits: { maxSteps: 0 } }, 'it-badinput');
    const err = await handle.result().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(failureMessage(err), /invalid runEpisode input: limits\.maxSteps/);
    assert.equal((err.cause as { nonRetryable?: boolean }).nonRetryable, true);
    const events = (await handle.fetchHistory()).events ?? [];
    assert.equal(events.filter((e) => e.activityTaskScheduledEventAttributes).length, 0);
  });

  test('with the Docker engine down, opening the workspace fails retryably and says the engine is unreachable', async () => {
    const saved = process.env.DOCKER_HOST;
    const closed = path.join(fs.mkdtempSync('/tmp/mlagent-nodocker-'), 'docker.sock');
    process.env.DOCKER_HOST = `unix://${closed}`;
    const handle = await start({ task: TASK }, 'it-nodocker');
    try {
      let failure: string | undefined;
      for (let i = 0; i < 60 && !failure; i++) {
        const d = await handle.describe();
        const pending = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'openWorkspace');
        if (pending?.lastFailure && (pending.attempt ?? 0) >= 2) failure = pending.lastFailure.message ?? '';
        else await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(failure, 'openWorkspace was retried with a recorded failure');
      assert.match(failure, /Docker engine unreachable at unix:\/\/.*docker\.sock/);
    } finally {
      process.env.DOCKER_HOST = saved;
      if (saved === undefined) delete process.env.DOCKER_HOST;
      await handle.terminate('test done');
    }
  });
});

