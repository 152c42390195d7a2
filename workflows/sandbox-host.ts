import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  log,
  proxyActivities,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import type { SandboxActivities } from '../activities/sandbox-activities';
import { failureMessage } from '../core/failure-message';
import { SANDBOX_QUEUE } from '../core/queues';

/**
 * Workflow side of the host-pinned sandbox: a workspace is opened on any sandbox host (the pool queue), its actions
 * then go to that host's own queue, and when the host or container is lost the state moves to another host.
 * Episodes and PPO rollouts both act through it.
 */

/** Opening needs no particular host: any sandbox worker of the pool takes it. */
const sandboxPool = proxyActivities<SandboxActivities>({
  taskQueue: SANDBOX_QUEUE,
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '5 minutes',
  retry: { maximumAttempts: 5 },
});

/** How long one action may run, and how long its host may leave it unstarted before the host counts as lost. */
export interface HostTimeouts {
  actionTimeoutSec: number;
  hostLostAfterSec: number;
}

/** Where a workspace lives now; it moves when its container or host is lost. */
export interface Workspace {
  containerId: string;
  onHost: ActivityInterfaceFor<SandboxActivities>;
}

type OpenArgs = Parameters<SandboxActivities['openWorkspace']>[0];
type RunActionArgs = Omit<Parameters<SandboxActivities['runAction']>[0], 'containerId'>;

/**
 * Activities on the host that holds the container. A dead worker is noticed by the heartbeat timeout (the
 * retry restores the state in a fresh container); a dead host by the schedule-to-start timeout.
 */
function hostActivities(hostQueue: string, t: HostTimeouts): ActivityInterfaceFor<SandboxActivities> {
  return proxyActivities<SandboxActivities>({
    taskQueue: hostQueue,
    startToCloseTimeout: `${t.actionTimeoutSec} seconds`,
    scheduleToStartTimeout: `${t.hostLostAfterSec} seconds`,
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 3 },
  });
}

/** Opens a workspace (the task's files, or a stored state) on any sandbox host; returns it and its snapshot. */
export async function openWorkspace(p: { args: OpenArgs; timeouts: HostTimeouts; summary: string }) {
  const opened = await sandboxPool.openWorkspace.executeWithOptions({ summary: p.summary }, [p.args]);
  const ws: Workspace = { containerId: opened.containerId, onHost: hostActivities(opened.hostQueue, p.timeouts) };
  return { ws, snapshot: opened.snapshot };
}

/** Runs the action; if its container or host is gone, reopens the state on any sandbox host and runs it there. */
export async function runActionRecovering(p: { ws: Workspace; timeouts: HostTimeouts; summary: string; args: RunActionArgs }) {
  for (let reopened = 0; ; reopened++) {
    try {
      const result = await p.ws.onHost.runAction.executeWithOptions({ summary: p.summary }, [{ ...p.args, containerId: p.ws.containerId }]);
      p.ws.containerId = result.containerId;
      return result;
    } catch (err) {
      if (reopened >= 2 || !workspaceLost(err)) throw err;
      const again = await openWorkspace({
        args: { task: p.args.task, episodeId: p.args.episodeId, snapshot: p.args.state },
        timeouts: p.timeouts,
        summary: 'reopen workspace from the last state',
      });
      Object.assign(p.ws, again.ws);
    }
  }
}

/**
 * Closes the workspace, even when the caller is being cancelled. A host lost meanwhile is left alone: it reclaims
 * its containers when it comes back, and nobody else may touch its engine.
 */
export async function closeWorkspace(ws: Workspace): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    try {
      await ws.onHost.closeWorkspace.executeWithOptions({ startToCloseTimeout: '2 minutes', summary: 'close workspace' }, [{ containerId: ws.containerId }]);
    } catch (err) {
      if (!workspaceLost(err)) throw err;
      log.warn(`container ${ws.containerId} left to its lost host: ${failureMessage(err)}`);
    }
  });
}

function workspaceLost(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure) return cause.type === 'SandboxGone';
  return cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START';
}
