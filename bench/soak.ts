import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { prepareTask } from '../activities/tasks/prepare';
import { parseFlags } from '../cli/flags';
import { startLocalTemporal } from '../temporal-config/local-server';
import { hostContainers, rssMiB, runScriptedEpisodes, startEpisodeWorkers } from './support/episode-load';

/**
 * `mlagent bench soak [--n 500] [--in-flight 8] [--sandbox-concurrency 2] [--task wa_churn] [--json]`: N short
 * scripted episodes through the orchestrator on a private Temporal dev server, the orchestrator's and the sandbox
 * worker's RSS sampled after every episode. Prints the RSS after the warm-up (the first 10% of episodes), at the
 * end and their ratio: a leak grows with N, a cache settles.
 */
const Flags = z.object({
  n: z.coerce.number().int().min(10).default(500),
  'in-flight': z.coerce.number().int().min(1).default(8),
  'sandbox-concurrency': z.coerce.number().int().min(1).default(2),
  task: z.string().min(1).default('wa_churn'),
  json: z.boolean().default(false),
});

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(Flags, argv);
  const env = await startLocalTemporal();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-soak-'));
  const hostId = `soak-${process.pid}`;
  process.env.MLAGENT_HOME = home;
  await prepareTask(flags.task);
  const workers = startEpisodeWorkers({ env, home, hostId, sandboxConcurrency: flags['sandbox-concurrency'] });
  const samples: { done: number; orchestrator: number; sandbox: number }[] = [];
  try {
    const t0 = Date.now();
    await runScriptedEpisodes({
      client: env.client, task: flags.task, n: flags.n, inFlight: flags['in-flight'], idPrefix: `soak-${t0}`,
      afterEach: (done) => {
        samples.push({ done, orchestrator: rssMiB(workers.orchestrator.pid!), sandbox: rssMiB(workers.sandbox.pid!) });
        if (!flags.json && done % 10 === 0) console.error(`${done}/${flags.n} episodes, orchestrator ${samples.at(-1)!.orchestrator.toFixed(0)} MiB, sandbox ${samples.at(-1)!.sandbox.toFixed(0)} MiB`);
      },
    });
    const seconds = (Date.now() - t0) / 1000;
    const warm = samples[Math.floor(samples.length / 10)];
    const last = samples.at(-1)!;
    const growth = (k: 'orchestrator' | 'sandbox') => ({ afterWarmupMiB: warm[k], endMiB: last[k], peakMiB: rssMiB(workers[k].pid!, 'VmHWM'), growthMiB: last[k] - warm[k], ratio: last[k] / warm[k] });
    const result = {
      episodes: flags.n,
      seconds,
      episodesPerMinute: (flags.n / seconds) * 60,
      orchestrator: growth('orchestrator'),
      sandbox: growth('sandbox'),
      leftContainers: (await hostContainers(hostId)).length,
      loadAverage: os.loadavg()[0],
    };
    if (flags.json) console.log(JSON.stringify(result, null, 2));
    else {
      for (const k of ['orchestrator', 'sandbox'] as const) {
        const g = result[k];
        console.log(`${k.padEnd(12)} RSS after warm-up ${g.afterWarmupMiB.toFixed(0)} MiB, end ${g.endMiB.toFixed(0)} MiB, peak ${g.peakMiB.toFixed(0)} MiB: growth ${g.growthMiB.toFixed(0)} MiB (ratio ${g.ratio.toFixed(2)})`);
      }
      console.log(`${flags.n} episodes in ${seconds.toFixed(0)} s (${result.episodesPerMinute.toFixed(1)}/min), ${result.leftContainers} containers left, load average ${result.loadAverage.toFixed(1)}`);
    }
    return result.leftContainers === 0 ? 0 : 1;
  } finally {
    Object.values(workers).forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
    await env.teardown();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
