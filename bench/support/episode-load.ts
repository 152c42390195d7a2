import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { HOST_LABEL } from '../../activities/sandbox/cleanup';
import { EpisodeInput, type EpisodeSummary } from '../../core/episode-schema';
import { ORCHESTRATOR_QUEUE, sandboxHostQueue } from '../../core/queues';

const REPO = path.join(__dirname, '../..');

/** Resident set now (VmRSS) or its high-water mark (VmHWM) of a process, in MiB, as the kernel counts it. */
export function rssMiB(pid: number, which: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const kb = Number(new RegExp(`${which}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

/** The orchestrator and sandbox workers as their own processes (as in production) on a given server and home. */
export function startEpisodeWorkers(p: { env: TestWorkflowEnvironment; home: string; hostId: string; sandboxConcurrency: number }): Record<'orchestrator' | 'sandbox', ChildProcess> {
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: p.env.address,
    TEMPORAL_NAMESPACE: p.env.namespace ?? 'default',
    MLAGENT_HOME: p.home,
    MLAGENT_SANDBOX_HOST_ID: p.hostId,
    MLAGENT_SANDBOX_CONCURRENCY: String(p.sandboxConcurrency),
  };
  const start = (name: string) => spawn(process.execPath, ['--import', 'tsx', path.join(REPO, `workers/${name}.ts`)], { cwd: REPO, env, stdio: ['ignore', 'ignore', 'inherit'] });
  return { orchestrator: start('orchestrator'), sandbox: start('sandbox') };
}

/**
 * Runs `n` scripted episodes of `task`, at most `inFlight` at a time; `afterEach(done)` is called as each ends.
 * A failed episode fails the whole run, naming it.
 */
export async function runScriptedEpisodes(p: { client: Client; task: string; n: number; inFlight: number; idPrefix: string; afterEach?: (done: number) => void }): Promise<EpisodeSummary[]> {
  const out: EpisodeSummary[] = [];
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < p.n) {
      const i = next++;
      const handle = await p.client.workflow.start('runEpisode', {
        taskQueue: ORCHESTRATOR_QUEUE,
        workflowId: `${p.idPrefix}-${i}`,
        args: [EpisodeInput.parse({ task: p.task, agent: { kind: 'scripted' }, seed: i })],
      });
      out[i] = await handle.result();
      p.afterEach?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(p.inFlight, p.n) }, lane));
  return out;
}

/** Containers the sandbox host `hostId` still has (none once its episodes closed their workspaces). */
export async function hostContainers(hostId: string): Promise<string[]> {
  const left = await dockerClient().listContainers({ all: true, filters: { label: [`${HOST_LABEL}=${sandboxHostQueue(hostId)}`] } });
  return left.map((c) => c.Id);
}
