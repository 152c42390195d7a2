import os from 'node:os';
import { NativeConnection, Worker } from '@temporalio/worker';
import { runWorkerMain } from './run-worker';
import { reclaimHostContainers } from '../activities/sandbox';
import { createSandboxActivities } from '../activities/sandbox-activities';
import { SANDBOX_QUEUE, sandboxHostQueue } from '../core/queues';

/**
 * Sandbox host: polls the shared queue (open workspaces, evaluations: any host will do) and its own
 * host queue (actions on containers that live on this Docker engine).
 */
/** Concurrent sandbox activities per queue (each may run a script on one CPU): MLAGENT_SANDBOX_CONCURRENCY, default 4. */
function sandboxConcurrency(): number {
  const n = Number(process.env.MLAGENT_SANDBOX_CONCURRENCY ?? 4);
  if (!Number.isInteger(n) || n < 1) throw new Error(`MLAGENT_SANDBOX_CONCURRENCY must be a positive integer, got ${process.env.MLAGENT_SANDBOX_CONCURRENCY}`);
  return n;
}

export async function createSandboxWorkers(p: { connection: NativeConnection; namespace: string; hostId?: string; concurrency?: number }): Promise<Worker[]> {
  const hostQueue = sandboxHostQueue(p.hostId ?? process.env.MLAGENT_SANDBOX_HOST_ID ?? os.hostname());
  const reclaimed = await reclaimHostContainers(hostQueue);
  if (reclaimed.length) console.log(`sandbox worker: removed ${reclaimed.length} container(s) a previous process of ${hostQueue} left`);
  const activities = createSandboxActivities({ hostQueue });
  const concurrency = p.concurrency ?? sandboxConcurrency();
  const make = (taskQueue: string) => Worker.create({ connection: p.connection, namespace: p.namespace, taskQueue, activities, maxConcurrentActivityTaskExecutions: concurrency });
  return Promise.all([make(SANDBOX_QUEUE), make(hostQueue)]);
}

if (require.main === module) runWorkerMain('sandbox', createSandboxWorkers);
