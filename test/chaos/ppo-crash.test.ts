import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ArtifactStore } from '../../activities/artifact-store';
import { reclaimHostContainers } from '../../activities/sandbox';
import type { ArtifactRef } from '../../core/artifact-ref';
import { failureMessage } from '../../core/failure-message';
import type { PpoIterationMetrics } from '../../core/ppo-schema';
import { ORCHESTRATOR_QUEUE, sandboxHostQueue } from '../../core/queues';
import { startLocalTemporal } from '../../temporal-config/local-server';
import type { PpoResult } from '../../workflows/ppo';
import { ppoFixture } from '../ppo/fixture';

/**
 * kill -9 of each worker kind during one PPO run: a sandbox host frozen in a rollout action (MLAGENT_PAUSE_AT), then
 * the orchestrator and the model worker while the model worker is frozen mid-update. The run must end with exactly its
 * iterations, each in the metrics log once, every sampled action executed (on the surviving host), and the same final
 * checkpoint, byte for byte, as an undisturbed run of the same input.
 */
type Kind = 'orchestrator' | 'sandbox' | 'model';
interface Proc {
  child: ChildProcess;
  output(): string;
}

let env: TestWorkflowEnvironment | undefined;
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await env?.teardown();
});

/** A worker as its own process (as in production), its stdout kept so the test can see its start and pause lines. */
function startWorker(kind: Kind, extra: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, `../../workers/${kind}.ts`)], {
    env: { ...process.env, TEMPORAL_ADDRESS: env!.address, TEMPORAL_NAMESPACE: env!.namespace ?? 'default', MLAGENT_PAUSE_AT: '', ...extra },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

/** Waits until the process printed `text`; fails at once if it exits first or the run ends. */
async function waitFor(p: { proc: Proc; text: string; run?: WorkflowHandle }): Promise<void> {
  for (let i = 0; !p.proc.output().includes(p.text); i++) {
    assert.equal(p.proc.child.exitCode, null, `the worker exited before printing "${p.text}": ${p.proc.output()}`);
    if (p.run && i % 25 === 0) {
      const status = (await p.run.describe()).status.name;
      if (status !== 'RUNNING') assert.fail(`the run ended (${status}) before "${p.text}": ${await p.run.result().then(() => 'completed', (e: unknown) => failureMessage(e))}`);
    }
    assert.ok(i < 3000, `"${p.text}" within 10 minutes`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const started = (kind: Kind, extra?: Record<string, string>) => {
  const proc = startWorker(kind, extra);
  return waitFor({ proc, text: `${kind} worker:` }).then(() => proc);
};

async function kill9(proc: Proc): Promise<void> {
  const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
  proc.child.kill('SIGKILL');
  await exited;
}

const metricsOf = async (ref: ArtifactRef) =>
  (await new ArtifactStore().get(ref)).toString().trim().split('\n').map((l) => JSON.parse(l) as PpoIterationMetrics);

test('kill -9 of a sandbox host mid-rollout, then of the orchestrator and the model worker mid-update: every iteration once, the full batch, the undisturbed run\'s checkpoint', { timeout: 1_200_000 }, async () => {
  const fixture = await ppoFixture();
  env = await startLocalTemporal();
  // Quick to notice a dead model worker (heartbeats) and a lost host (schedule-to-start); one iteration per run, so
  // the crashes also span a continue-as-new.
  const input = fixture.input({ iterations: 2, continueAsNewEvery: 1, heartbeatTimeoutSeconds: 5, hostLostAfterSec: 5, seed: 11 });
  const run = (id: string) => env!.client.workflow.start('ppo', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: id, args: [input] });
  const hostId = (name: string) => `ppo-crash-${name}-${process.pid}`;

  let orchestrator = await started('orchestrator');
  const [refHost, refModel] = await Promise.all([started('sandbox', { MLAGENT_SANDBOX_HOST_ID: hostId('ref') }), started('model')]);
  const t0 = Date.now();
  const reference = (await (await run(`ppo-crash-ref-${Date.now()}`)).result()) as PpoResult;
  console.log(`undisturbed run: ${((Date.now() - t0) / 1000).toFixed(0)} s, policy ${reference.policy.sha256.slice(0, 12)}`);
  await Promise.all([kill9(refHost), kill9(refModel)]);

  const [hostA, model1] = await Promise.all([
    started('sandbox', { MLAGENT_SANDBOX_HOST_ID: hostId('a'), MLAGENT_PAUSE_AT: 'runAction-call-1' }),
    started('model', { MLAGENT_PAUSE_AT: 'ppo-update-1' }),
  ]);
  const handle = await run(`ppo-crash-${Date.now()}`);
  // The sandbox host dies in the first rollout action; its actions must move to host B.
  await waitFor({ proc: hostA, text: 'paused at runAction-call-1', run: handle });
  await started('sandbox', { MLAGENT_SANDBOX_HOST_ID: hostId('b') });
  await kill9(hostA);
  // The model worker freezes after the first gradient step of iteration 1's update; the orchestrator dies meanwhile.
  await waitFor({ proc: model1, text: 'paused at ppo-update-1', run: handle });
  await kill9(orchestrator);
  orchestrator = await started('orchestrator');
  await kill9(model1);
  await started('model');

  const result = (await handle.result().catch((err: unknown) => assert.fail(`ppo failed: ${failureMessage(err)}`))) as PpoResult;
  assert.equal(result.iterations, 2);
  const log = await metricsOf(result.metricsLog);
  assert.deepEqual(log.map((m) => m.iteration), [0, 1], 'each iteration recorded once');
  for (const m of log) assert.equal(m.leftOut, 0, `iteration ${m.iteration}: every sampled action was executed (${JSON.stringify(m.kinds)})`);
  const view = (ms: PpoIterationMetrics[]) => ms.map((m) => ({ kinds: m.kinds, meanReward: m.meanReward, policy: m.policy.sha256 }));
  assert.deepEqual(view(log), view(await metricsOf(reference.metricsLog)), 'the same outcomes and policies, iteration by iteration');
  assert.equal(result.policy.sha256, reference.policy.sha256, 'the final checkpoint equals the undisturbed run\'s');

  const first = (await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory()).events ?? [];
  const summaryOf = (e: (typeof first)[number]) => Buffer.from(e.userMetadata?.summary?.data ?? []).toString();
  assert.ok(first.some((e) => summaryOf(e).includes('reopen workspace')), 'the lost host\'s action was reopened from its state on another host');
  const updates = first.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'ppoUpdate').map((e) => String(e.eventId));
  const retried = first.filter((e) => updates.includes(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) && (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
  assert.equal(retried.length, 1, 'the frozen update was retried by the new model worker');
  // Host A never came back: its container is left to its reclaim, done here as its restart would.
  await reclaimHostContainers(sandboxHostQueue(hostId('a')));
});
