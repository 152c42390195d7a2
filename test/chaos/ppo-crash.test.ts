import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import { dockerClient } from '../../activities/sandbox/docker-client';
import type { ArtifactRef } from '../../core/artifact-ref';
import type { PpoIterationMetrics } from '../../core/ppo-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import type { PpoResult } from '../../workflows/ppo';
import { startChaosStack, type ChaosStack } from '../helpers/dev-stack';
import { ppoFixture } from '../ppo/fixture';

/**
 * kill -9 of every process kind during one PPO run on a dev stack of its own (`mlagent dev up`, server on SQLite):
 * the sandbox host frozen in a rollout action (MLAGENT_PAUSE_AT), so its action moves to a second host; then, while
 * the model worker is frozen mid-update, the orchestrator, the Temporal server and the model worker itself. The run
 * must end with exactly its iterations, each in the metrics log once, every sampled action executed, and the final
 * checkpoint of an undisturbed run of the same input, byte for byte.
 */
let stack: ChaosStack | undefined;
let hostB: ChildProcess | undefined;
after(() => {
  hostB?.kill('SIGKILL');
  stack?.down();
});

/** A second sandbox host, outside the dev stack: its own host id, so its own host queue. */
function startSecondHost(s: ChaosStack): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../workers/sandbox.ts')], {
    env: { ...s.env, TEMPORAL_ADDRESS: s.address, TEMPORAL_NAMESPACE: 'mlagent', MLAGENT_SANDBOX_HOST_ID: `${s.env.MLAGENT_SANDBOX_HOST_ID}-b` },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('sandbox worker:')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`second sandbox host exited (${code}) before starting: ${out}`)));
  });
}

const metricsOf = async (ref: ArtifactRef) =>
  (await new ArtifactStore().get(ref)).toString().trim().split('\n').map((l) => JSON.parse(l) as PpoIterationMetrics);

test('kill -9 of the sandbox host mid-rollout, then of the orchestrator, the Temporal server and the model worker mid-update: every iteration once, the full batch, the undisturbed run\'s checkpoint', { timeout: 1_200_000 }, async () => {
  stack = await startChaosStack('ppo-chaos');
  const s = stack;
  process.env.MLAGENT_HOME = s.home; // the fixture's artifacts go where the stack's workers read them
  const fixture = await ppoFixture();
  // Quick to notice a dead model worker (heartbeats) and a lost host (schedule-to-start); one iteration per run, so
  // the crashes also span a continue-as-new.
  const input = fixture.input({ iterations: 2, continueAsNewEvery: 1, heartbeatTimeoutSeconds: 5, hostLostAfterSec: 5, seed: 11 });
  const run = async (id: string) => (await s.client()).workflow.start('ppo', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: id, args: [input] });

  s.up();
  let t0 = Date.now();
  const reference = await s.result<PpoResult>((await run(`ppo-chaos-ref-${Date.now()}`)).workflowId);
  console.log(`undisturbed run: ${((Date.now() - t0) / 1000).toFixed(0)} s, policy ${reference.policy.sha256.slice(0, 12)}`);

  await s.kill('sandbox');
  await s.kill('model');
  s.up('runAction-call-1,ppo-update-1');
  t0 = Date.now();
  const handle = await run(`ppo-chaos-${Date.now()}`);
  // The sandbox host dies in the first rollout action; once its action moved to host B, nothing waits on host A.
  await s.waitLog({ part: 'sandbox', text: 'paused at runAction-call-1\n' });
  hostB = await startSecondHost(s);
  await s.kill('sandbox');
  const summaries = async () =>
    ((await handle.fetchHistory()).events ?? []).map((e) => Buffer.from(e.userMetadata?.summary?.data ?? []).toString());
  for (let i = 0; !(await summaries()).some((x) => x.includes('reopen workspace')); i++) {
    assert.ok(i < 600, 'the lost host\'s action was reopened from its state on another host');
    await new Promise((r) => setTimeout(r, 500));
  }
  // The model worker freezes after the first gradient step of iteration 1's update; then the orchestrator, the server
  // and the frozen model worker die (a frozen worker has no free slot, so `dev up` would not see it poll), and all
  // come back, with host A, which reclaims its container.
  await s.waitLog({ part: 'model', text: 'paused at ppo-update-1\n' });
  await s.kill('orchestrator');
  await s.kill('temporal');
  await s.kill('model');
  s.up();

  const result = await s.result<PpoResult>(handle.workflowId);
  console.log(`disturbed run: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  assert.equal(result.iterations, 2);
  const log = await metricsOf(result.metricsLog);
  assert.deepEqual(log.map((m) => m.iteration), [0, 1], 'each iteration recorded once');
  for (const m of log) assert.equal(m.leftOut, 0, `iteration ${m.iteration}: every sampled action was executed (${JSON.stringify(m.kinds)})`);
  const view = (ms: PpoIterationMetrics[]) => ms.map((m) => ({ kinds: m.kinds, meanReward: m.meanReward, policy: m.policy.sha256 }));
  assert.deepEqual(view(log), view(await metricsOf(reference.metricsLog)), 'the same outcomes and policies, iteration by iteration');
  assert.equal(result.policy.sha256, reference.policy.sha256, 'the final checkpoint equals the undisturbed run\'s');

  const first = (await (await s.client()).workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory()).events ?? [];
  const updates = first.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'ppoUpdate').map((e) => String(e.eventId));
  const retried = first.filter((e) => updates.includes(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) && (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
  assert.equal(retried.length, 1, 'the frozen update was retried by the new model worker');
  const left = await dockerClient().listContainers({ all: true, filters: { label: ['mlagent.task=co2'] } });
  assert.equal(left.filter((c) => c.Labels['mlagent.episode']?.startsWith(handle.workflowId)).length, 0, 'no container of the run is left');
});
