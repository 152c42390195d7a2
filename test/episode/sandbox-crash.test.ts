import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { ArtifactStore } from '../../activities/artifact-store';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { taskDir } from '../../activities/tasks/registry';
import type { EpisodeInput, StepRecord } from '../../core/episode-schema';
import { failureMessage } from '../../core/failure-message';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { createOrchestratorWorker } from '../../workers/orchestrator';
import { startLocalTemporal } from '../../temporal-config/local-server';

const TASK = 'co2';
let env: TestWorkflowEnvironment;
let orchestrator: Worker;
let running: Promise<void>;
const children: ChildProcess[] = [];

/** A sandbox worker in its own process, so the test can kill it the hard way. */
function startSandboxWorker(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../workers/sandbox.ts')], {
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', MLAGENT_SANDBOX_HOST_ID: 'crash-host' },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

before(async () => {
  env = await startLocalTemporal();
  orchestrator = await createOrchestratorWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default' });
  running = orchestrator.run();
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  orchestrator?.shutdown();
  await running;
  await env?.teardown();
});

test('killing the sandbox worker mid-action (kill -9) loses nothing: the action reruns from its state and the episode completes', { timeout: 600_000 }, async () => {
  // An injected "idea" that makes the edited script run long enough to be killed mid-run on any machine.
  const slow = { id: 'slow', text: 'pause before loading', edits: [{ script_name: 'train.py', edits: [{ old: '# 1. load', new: 'import time; time.sleep(20)\n# 1. load' }] }] };
  assert.ok(fs.readFileSync(path.join(taskDir(TASK), 'train.py'), 'utf8').includes('# 1. load'));
  const first = startSandboxWorker();
  const handle = await env.client.workflow.start('runEpisode', {
    taskQueue: ORCHESTRATOR_QUEUE,
    workflowId: `it-crash-${Date.now()}`,
    args: [{ task: TASK, seedIdeas: [slow], seed: 3 } as EpisodeInput],
  });

  // Wait until the run of the edited (slow) script is in flight on the first worker, then kill it without warning.
  for (let i = 0; ; i++) {
    assert.ok(i < 600, 'an Execute Script action started');
    // A started activity shows up as pending (its Started event is only written when it ends).
    const pending = ((await handle.describe()).raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'runAction' && Number(a.state) === 2);
    const events = (await handle.fetchHistory()).events ?? [];
    const summaryOf = (e: (typeof events)[number] | undefined) => Buffer.from(e?.userMetadata?.summary?.data ?? []).toString();
    const edited = events.some((e) => e.activityTaskScheduledEventAttributes && summaryOf(e).includes('Edit Script'));
    const inFlight = edited && pending.some((a) => summaryOf(events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === a.activityId)).includes('Execute Script'));
    if (inFlight) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 1000));
  first.kill('SIGKILL');
  startSandboxWorker();

  const summary = await handle.result().catch((err: unknown) => assert.fail(`episode failed: ${failureMessage(err)}`));
  assert.equal(summary.endReason, 'final_answer');
  const steps = (await new ArtifactStore().get(summary.trajectory)).toString().trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
  assert.ok(steps.every((s) => s.kind !== 'error' && s.kind !== 'invalid'), steps.map((s) => `${s.action?.name}:${s.kind}`).join(', '));
  assert.ok(steps.filter((s) => s.action?.name === 'Execute Script').every((s) => typeof s.metricAfter === 'number'), 'every script run was scored');

  const history = (await handle.fetchHistory()).events ?? [];
  const retried = history.filter((e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1);
  assert.ok(retried.length >= 1, 'the interrupted action was retried');
  const left = await dockerClient().listContainers({ all: true, filters: { label: [`mlagent.episode=${handle.workflowId}`] } });
  assert.equal(left.length, 0, 'no container outlives the episode, including the one the dead worker left');
});
