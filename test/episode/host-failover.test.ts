import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { ArtifactStore } from '../../activities/artifact-store';
import { HOST_LABEL } from '../../activities/sandbox';
import { dockerClient } from '../../activities/sandbox/docker-client';
import type { EpisodeInput, StepRecord } from '../../core/episode-schema';
import { failureMessage } from '../../core/failure-message';
import { ORCHESTRATOR_QUEUE, sandboxHostQueue } from '../../core/queues';
import { startLocalTemporal } from '../../temporal-config/local-server';
import { createOrchestratorWorker } from '../../workers/orchestrator';

let env: TestWorkflowEnvironment;
let orchestrator: Worker;
let running: Promise<void>;
const children: ChildProcess[] = [];

/** A sandbox host in its own process (both share this machine's Docker engine, each with its own host queue). */
function startHost(hostId: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../workers/sandbox.ts')], {
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', MLAGENT_SANDBOX_HOST_ID: hostId },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  return child;
}

/** Resolves when the worker process printed its start line (it polls from then on). */
function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('sandbox worker:') && out.includes('queues')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`sandbox worker exited (${code}) before starting: ${out}`)));
  });
}

const containersOf = async (labels: string[]) => dockerClient().listContainers({ all: true, filters: { label: labels } });

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

test('a sandbox host dies mid-episode: its episode moves to the other host and finishes; the dead host reclaims its container on restart', { timeout: 600_000 }, async () => {
  const hostA = startHost('failover-a');
  await started(hostA);
  // The slow idea keeps an Execute Script in flight on host A long enough to kill A during it, on any machine.
  const slow = { id: 'slow', text: 'pause before loading', edits: [{ script_name: 'train.py', edits: [{ old: '# 1. load', new: 'import time; time.sleep(30)\n# 1. load' }] }] };
  const handle = await env.client.workflow.start('runEpisode', {
    taskQueue: ORCHESTRATOR_QUEUE,
    workflowId: `it-failover-${Date.now()}`,
    args: [{ task: 'co2', seedIdeas: [slow], seed: 3, limits: { hostLostAfterSec: 15 } } as EpisodeInput],
  });
  const queueA = sandboxHostQueue('failover-a');
  const queueB = sandboxHostQueue('failover-b');
  const scheduled = async () => ((await handle.fetchHistory()).events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
  const summaryOf = (e: { userMetadata?: { summary?: { data?: Uint8Array | null } | null } | null }) => Buffer.from(e.userMetadata?.summary?.data ?? []).toString();
  for (let i = 0; ; i++) {
    assert.ok(i < 1200, 'the slow Execute Script started on host A');
    const events = await scheduled();
    const edited = events.some((e) => summaryOf(e).includes('Edit Script'));
    const pending = ((await handle.describe()).raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'runAction' && Number(a.state) === 2);
    const onA = pending.some((a) => {
      const ev = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === a.activityId);
      return ev && summaryOf(ev).includes('Execute Script') && ev.activityTaskScheduledEventAttributes?.taskQueue?.name === queueA;
    });
    if (edited && onA) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const hostB = startHost('failover-b');
  await started(hostB);
  hostA.kill('SIGKILL');

  const summary = await handle.result().catch((err: unknown) => assert.fail(`episode failed: ${failureMessage(err)}`));
  assert.equal(summary.endReason, 'final_answer');
  const steps = (await new ArtifactStore().get(summary.trajectory)).toString().trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
  assert.ok(steps.every((s) => s.kind !== 'error' && s.kind !== 'invalid'), steps.map((s) => `${s.action?.name}:${s.kind}`).join(', '));
  assert.ok(steps.filter((s) => s.action?.name === 'Execute Script').every((s) => typeof s.metricAfter === 'number'), 'every script run was scored');

  const events = await scheduled();
  assert.ok(events.some((e) => summaryOf(e).includes('reopen workspace')), 'the workspace was reopened from its last state');
  const afterReopen = events.slice(events.findIndex((e) => summaryOf(e).includes('reopen workspace')) + 1);
  assert.ok(afterReopen.length > 0 && afterReopen.every((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name !== queueA), 'nothing more went to the dead host');
  assert.ok(afterReopen.some((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name === queueB), 'the rest of the episode ran on host B');

  const episode = `mlagent.episode=${handle.workflowId}`;
  assert.equal((await containersOf([episode, `${HOST_LABEL}=${queueB}`])).length, 0, 'host B closed the episode\'s container');
  assert.equal((await containersOf([episode, `${HOST_LABEL}=${queueA}`])).length, 1, 'the dead host\'s container is still there: nobody else may touch its engine');
  const again = startHost('failover-a');
  await started(again);
  assert.equal((await containersOf([episode])).length, 0, 'host A reclaimed its container when it came back');
});
