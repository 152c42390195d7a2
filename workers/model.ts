import { NativeConnection, Worker } from '@temporalio/worker';
import { runWorkerMain } from './run-worker';
import * as activities from '../activities/model';
import { MODEL_QUEUE } from '../core/queues';
import { initBackend } from '../model/backend';

/** Model worker: activity-only (native tfjs and workflow threads do not mix), one per accelerator. */
export async function createModelWorker(p: { connection: NativeConnection; namespace: string }): Promise<Worker> {
  await initBackend();
  return Worker.create({ connection: p.connection, namespace: p.namespace, taskQueue: MODEL_QUEUE, activities, maxConcurrentActivityTaskExecutions: 1 });
}

if (require.main === module) runWorkerMain('model', createModelWorker);
