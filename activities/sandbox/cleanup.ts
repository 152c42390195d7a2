import { dockerCall, dockerClient, isNotFound } from './docker-client';
import { SANDBOX_LABEL } from './sandbox-config';

/**
 * Removes sandbox containers (label mlagent=1, running or not) created more than olderThanMs ago,
 * with their workspace volumes. `labels` narrows the match (e.g. one run's containers). Returns removed ids.
 */
export async function cleanupSandboxes(p: { olderThanMs: number; labels?: Record<string, string> }): Promise<string[]> {
  if (!Number.isFinite(p.olderThanMs) || p.olderThanMs < 0) throw new Error(`cleanupSandboxes: olderThanMs must be >= 0, got ${p.olderThanMs}`);
  const docker = dockerClient();
  const label = [`${SANDBOX_LABEL}=1`, ...Object.entries(p.labels ?? {}).map(([k, v]) => `${k}=${v}`)];
  const containers = await dockerCall(() => docker.listContainers({ all: true, filters: { label } }));
  const cutoffSec = (Date.now() - p.olderThanMs) / 1000;
  const removed: string[] = [];
  for (const c of containers.filter((c) => c.Created <= cutoffSec)) {
    await dockerCall(() => docker.getContainer(c.Id).remove({ force: true, v: true })).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    removed.push(c.Id);
  }
  return removed;
}

/** Label naming the host queue of the sandbox worker that created a container. */
export const HOST_LABEL = 'mlagent.host';

/**
 * Removes every container a previous process of this host left behind (its episodes reopen their last state
 * elsewhere or here: a missing container counts as a lost workspace). One sandbox worker per host id.
 */
export function reclaimHostContainers(hostQueue: string): Promise<string[]> {
  return cleanupSandboxes({ olderThanMs: 0, labels: { [HOST_LABEL]: hostQueue } });
}
