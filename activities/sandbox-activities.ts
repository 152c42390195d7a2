import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Action } from '../core/actions';
import type { ArtifactRef } from '../core/artifact-ref';
import { STARTER_SCRIPT, type StepKind } from '../core/episode-schema';
import type { LlmConfig, TokenUsage } from '../core/llm-schemas';
import type { ResourceLimit } from '../core/step-kind';
import { truncateObservation } from '../core/truncate';
import { ArtifactStore } from './artifact-store';
import { executeAction, SUBMISSION_FILE } from './environment/execute-action';
import { pauseIfRequested } from './fault-points';
import { LlmClient, llmConfigFromEnv } from './llm/client';
import { MetricCache } from './metric-cache';
import { cleanupSandboxes, HOST_LABEL } from './sandbox/cleanup';
import { Sandbox } from './sandbox/sandbox';
import { loadTaskOrFail } from './tasks/registry';
import { prepareTask } from './tasks/prepare';
import { scoreSubmission } from './tasks/score';
import { workspaceContentHash } from './workspace-hash';

/** Activities heartbeat this often; the workflow's heartbeat timeout notices a dead worker within a few beats. */
const HEARTBEAT_MS = 5_000;

export interface OpenWorkspaceResult {
  containerId: string;
  /** This host's own queue: later actions on the container must run where the container lives. */
  hostQueue: string;
  snapshot: ArtifactRef;
}

export interface RunActionResult {
  /** The container now holding the workspace: a retried action runs in a fresh one restored from the state. */
  containerId: string;
  observation: string;
  kind: StepKind;
  metricAfter: number | null;
  workspaceChanged: boolean;
  snapshotAfter: ArtifactRef;
  seconds: number;
  /** Token usage of LLM-backed actions (`Edit Script (AI)`, `Understand File`); absent when no LLM was called. */
  usage?: TokenUsage[];
}

export interface EvaluateResult {
  metric: number | null;
  error?: string;
  /** Set when the run was stopped by a limit (the reward module's corner case), not by its own failure. */
  resourceLimit?: ResourceLimit;
  cached: boolean;
  seconds: number;
}

/**
 * Sandbox-queue activities. `hostQueue` is the queue only this worker's host listens on. `llm` (from the
 * environment unless given; null = none) is the chat model behind `Edit Script (AI)` and `Understand File`.
 */
export function createSandboxActivities(p: { hostQueue: string; store?: ArtifactStore; cache?: MetricCache; llm?: LlmConfig | null }) {
  const store = p.store ?? new ArtifactStore();
  const cache = p.cache ?? new MetricCache();
  const llmConfig = p.llm === undefined ? llmConfigFromEnv() : (p.llm ?? undefined);
  const llm = llmConfig?.model ? new LlmClient(llmConfig) : undefined;

  let actionCalls = 0;
  // Every container says which host made it, so a restarted worker can reclaim what its predecessor left.
  const host = { [HOST_LABEL]: p.hostQueue };

  async function snapshotOf(sandbox: Sandbox): Promise<ArtifactRef> {
    return store.put(await sandbox.snapshot(), 'workspace-snapshot');
  }

  return {
    /** A fresh container holding the task's public files, or a stored snapshot (state restore). */
    async openWorkspace(a: { task: string; episodeId: string; snapshot?: ArtifactRef }): Promise<OpenWorkspaceResult> {
      const labels = { ...host, 'mlagent.episode': a.episodeId, 'mlagent.task': a.task };
      // An earlier attempt that timed out after creating its container (seen under memory pressure) left it
      // running: the episode now opens this one instead, so whatever it had on this host is abandoned.
      if (Context.current().info.attempt > 1) await cleanupSandboxes({ olderThanMs: 0, labels: { ...host, 'mlagent.episode': a.episodeId } });
      const sandbox = a.snapshot
        ? await Sandbox.create({ workspaceTar: await store.get(a.snapshot), labels })
        : await Sandbox.create({ workspaceDir: (await prepareTask(loadTaskOrFail(a.task).name)).publicDir, labels });
      try {
        return { containerId: sandbox.id, hostQueue: p.hostQueue, snapshot: a.snapshot ?? (await snapshotOf(sandbox)) };
      } catch (err) {
        await sandbox.destroy();
        throw err;
      }
    },

    /**
     * One environment action. A retry (worker crash, lost heartbeat) may find the action half applied, so it
     * starts over in a fresh container restored from the state's snapshot: re-running is then exact.
     */
    async runAction(a: {
      containerId: string;
      episodeId: string;
      task: string;
      action: Action;
      state: ArtifactRef;
      observationChars: number;
      scriptTimeoutSec?: number;
    }): Promise<RunActionResult> {
      // Crash tests freeze the worker at its n-th action (MLAGENT_PAUSE_AT=runAction-call-n), then kill it.
      await pauseIfRequested(`runAction-call-${++actionCalls}`);
      const task = loadTaskOrFail(a.task);
      let sandbox: Sandbox;
      if (Context.current().info.attempt > 1) {
        // A retry starts over from the state; the old container may already be gone (reclaimed by a restarted worker).
        await Sandbox.attach(a.containerId).then((old) => old.destroy(), () => undefined);
        sandbox = await Sandbox.create({ workspaceTar: await store.get(a.state), labels: { ...host, 'mlagent.episode': a.episodeId, 'mlagent.task': task.name } });
      } else sandbox = await attach(a.containerId);
      return whileHeartbeating(async () => {
        const outcome = await executeAction({ sandbox, action: a.action, scriptTimeoutSec: a.scriptTimeoutSec ?? task.scriptTimeoutSec, llm });
        let observation = outcome.observation;
        let metricAfter: number | null = null;
        if (outcome.submission) {
          const scored = await scoreSubmission({ task: task.name, submission: outcome.submission });
          if (scored.ok) metricAfter = scored.metric;
          else observation += `\n(${SUBMISSION_FILE} could not be scored: ${scored.error})`;
        }
        return {
          containerId: sandbox.id,
          observation: truncateObservation(observation, a.observationChars),
          kind: outcome.kind,
          metricAfter,
          workspaceChanged: outcome.workspaceChanged ?? false,
          snapshotAfter: await snapshotOf(sandbox),
          seconds: outcome.seconds,
          ...(outcome.usage && { usage: outcome.usage }),
        };
      });
    },

    /**
     * m_{t+1} of a workspace: run the task's script on a copy restored from the snapshot and score it.
     * Cached by (task, content hash), so an identical workspace is never scored twice; a run stopped by a
     * resource limit is not cached, since the outcome depends on the limit (`scriptTimeoutSec`, the task's
     * own when absent) and the host's load, not on the workspace alone.
     */
    async evaluateWorkspace(a: { task: string; snapshot: ArtifactRef; useCache?: boolean; scriptTimeoutSec?: number }): Promise<EvaluateResult> {
      const started = Date.now();
      const task = loadTaskOrFail(a.task);
      const tar = await store.get(a.snapshot);
      const hash = await workspaceContentHash(tar);
      if (a.useCache !== false) {
        const hit = await cache.get(task.name, hash);
        if (hit) return { ...hit, cached: true, seconds: (Date.now() - started) / 1000 };
      }
      const sandbox = await Sandbox.create({ workspaceTar: tar, labels: { ...host, 'mlagent.evaluate': task.name } });
      try {
        const timeoutSec = a.scriptTimeoutSec ?? task.scriptTimeoutSec;
        const res = await whileHeartbeating(() => sandbox.exec({ cmd: ['python3', STARTER_SCRIPT], timeoutMs: timeoutSec * 1000 }));
        if (res.timedOut || res.oomKilled || res.diskFull) {
          const resourceLimit: ResourceLimit = res.timedOut ? 'timeout' : res.oomKilled ? 'out_of_memory' : 'disk_full';
          const error = res.timedOut ? `timeout after ${timeoutSec} s` : res.oomKilled ? 'out of memory' : 'no space left in the workspace';
          return { metric: null, error, resourceLimit, cached: false, seconds: (Date.now() - started) / 1000 };
        }
        let result: { metric: number | null; error?: string };
        if (res.exitCode !== 0) {
          result = { metric: null, error: `exit code ${res.exitCode}` };
        } else {
          const submission = await sandbox.readFile(SUBMISSION_FILE).catch(() => undefined);
          const scored = submission ? await scoreSubmission({ task: task.name, submission }) : { ok: false as const, error: `no ${SUBMISSION_FILE}` };
          result = scored.ok ? { metric: scored.metric } : { metric: null, error: scored.error };
        }
        await cache.set(task.name, hash, result);
        return { ...result, cached: false, seconds: (Date.now() - started) / 1000 };
      } finally {
        await sandbox.destroy();
      }
    },

    async closeWorkspace(a: { containerId: string }): Promise<void> {
      const sandbox = await Sandbox.attach(a.containerId).catch(() => undefined);
      await sandbox?.destroy();
    },
  };
}

export type SandboxActivities = ReturnType<typeof createSandboxActivities>;

/** Heartbeats while `fn` runs, so a worker that dies mid-run is noticed by the heartbeat timeout, not the run's. */
async function whileHeartbeating<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
  try {
    return await fn();
  } finally {
    clearInterval(beat);
  }
}

/** A vanished container (host restarted, cleaned up) cannot come back: the workflow restores from a snapshot. */
async function attach(containerId: string): Promise<Sandbox> {
  try {
    return await Sandbox.attach(containerId);
  } catch (err) {
    if (/no such container|not found|does not exist/i.test((err as Error).message)) {
      throw ApplicationFailure.nonRetryable(`sandbox container ${containerId} is gone`, 'SandboxGone');
    }
    throw err;
  }
}
