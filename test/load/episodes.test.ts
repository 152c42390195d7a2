import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { HOST_LABEL } from '../../activities/sandbox/cleanup';
import { prepareTask } from '../../activities/tasks/prepare';
import { EpisodeInput, type EpisodeSummary } from '../../core/episode-schema';
import { failureMessage } from '../../core/failure-message';
import { ORCHESTRATOR_QUEUE, sandboxHostQueue } from '../../core/queues';
import { startLocalTemporal } from '../../temporal-config/local-server';

const REPO = path.join(__dirname, '../..');
const EPISODES = 32;
const SANDBOX_CONCURRENCY = 2;
const TASK = 'wa_churn'; // the fastest starter of the suite (~1 s)

const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

/** Peak resident set of a process so far, from the kernel's own high-water mark (no sampling). */
function peakRssMiB(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

test(`${EPISODES} concurrent scripted episodes with sandbox concurrency ${SANDBOX_CONCURRENCY}: all finish, no container left, peak RSS and throughput recorded`, { timeout: 8 * 60_000 }, async () => {
  const env = await startLocalTemporal();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-load-'));
  const hostId = `load-${process.pid}`;
  try {
    process.env.MLAGENT_HOME = home;
    await prepareTask(TASK); // outside the timed part: the workers would otherwise prepare it on the first open
    const workerEnv = { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', MLAGENT_HOME: home, MLAGENT_SANDBOX_HOST_ID: hostId, MLAGENT_SANDBOX_CONCURRENCY: String(SANDBOX_CONCURRENCY) };
    const workers = Object.fromEntries(
      (['orchestrator', 'sandbox'] as const).map((name) => {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, `workers/${name}.ts`)], { cwd: REPO, env: workerEnv, stdio: ['ignore', 'ignore', 'inherit'] });
        children.push(child);
        return [name, child];
      }),
    );

    const t0 = Date.now();
    // The scripted expert's whole episode (list, run, edit, run, final answer: 5 steps, 2 scored runs).
    const input = (i: number) => EpisodeInput.parse({ task: TASK, agent: { kind: 'scripted' }, seed: i });
    const handles = await Promise.all(
      Array.from({ length: EPISODES }, (_, i) => env.client.workflow.start('runEpisode', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `load-${i}-${t0}`, args: [input(i)] })),
    );
    const summaries: EpisodeSummary[] = await Promise.all(handles.map((h) => h.result().catch((err: unknown) => assert.fail(`${h.workflowId} failed: ${failureMessage(err)}`))));
    const seconds = (Date.now() - t0) / 1000;

    assert.equal(summaries.length, EPISODES);
    for (const s of summaries) assert.equal(s.endReason, 'final_answer', JSON.stringify(s));
    const steps = summaries.reduce((n, s) => n + s.steps, 0);
    const left = await dockerClient().listContainers({ all: true, filters: { label: [`${HOST_LABEL}=${sandboxHostQueue(hostId)}`] } });
    assert.deepEqual(left.map((c) => c.Id), [], 'no container left behind');
    const rss = Object.entries(workers).map(([name, c]) => `${name} ${peakRssMiB(c.pid!).toFixed(0)} MiB`).join(', ');
    console.log(`load: ${EPISODES} episodes (${steps} steps, sandbox concurrency ${SANDBOX_CONCURRENCY}) in ${seconds.toFixed(0)} s = ${((EPISODES / seconds) * 60).toFixed(1)} episodes/min; peak RSS ${rss}; load average ${os.loadavg()[0].toFixed(1)}`);
  } finally {
    children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
    await env.teardown();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
