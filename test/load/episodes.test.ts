import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { prepareTask } from '../../activities/tasks/prepare';
import { failureMessage } from '../../core/failure-message';
import { startLocalTemporal } from '../../temporal-config/local-server';
import { hostContainers, rssMiB, runScriptedEpisodes, startEpisodeWorkers } from '../../bench/support/episode-load';

const EPISODES = 32;
const SANDBOX_CONCURRENCY = 2;
const TASK = 'wa_churn'; // the fastest starter of the suite (~1 s)

test(`${EPISODES} concurrent scripted episodes with sandbox concurrency ${SANDBOX_CONCURRENCY}: all finish, no container left, peak RSS and throughput recorded`, { timeout: 8 * 60_000 }, async () => {
  const env = await startLocalTemporal();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-load-'));
  const hostId = `load-${process.pid}`;
  process.env.MLAGENT_HOME = home;
  await prepareTask(TASK); // outside the timed part: the workers would otherwise prepare it on the first open
  const workers = startEpisodeWorkers({ env, home, hostId, sandboxConcurrency: SANDBOX_CONCURRENCY });
  try {
    const t0 = Date.now();
    // All 32 at once; the scripted expert's whole episode (list, run, edit, run, final answer).
    const summaries = await runScriptedEpisodes({ client: env.client, task: TASK, n: EPISODES, inFlight: EPISODES, idPrefix: `load-${t0}` }).catch((err: unknown) => assert.fail(failureMessage(err)));
    const seconds = (Date.now() - t0) / 1000;

    assert.equal(summaries.length, EPISODES);
    for (const s of summaries) assert.equal(s.endReason, 'final_answer', JSON.stringify(s));
    assert.deepEqual(await hostContainers(hostId), [], 'no container left behind');
    const steps = summaries.reduce((n, s) => n + s.steps, 0);
    const rss = Object.entries(workers).map(([name, c]) => `${name} ${rssMiB(c.pid!, 'VmHWM').toFixed(0)} MiB`).join(', ');
    console.log(`load: ${EPISODES} episodes (${steps} steps, sandbox concurrency ${SANDBOX_CONCURRENCY}) in ${seconds.toFixed(0)} s = ${((EPISODES / seconds) * 60).toFixed(1)} episodes/min; peak RSS ${rss}; load average ${os.loadavg()[0].toFixed(1)}`);
  } finally {
    Object.values(workers).forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
    await env.teardown();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
