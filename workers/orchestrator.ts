import { NativeConnection, Worker } from '@temporalio/worker';
import { runWorkerMain } from './run-worker';
import { createDatasetActivities } from '../activities/dataset-activities';
import { createFinishedChildActivities } from '../activities/finished-child';
import { createIdeaActivities } from '../activities/ideas/activities';
import { createOrchestratorActivities } from '../activities/orchestrator-activities';
import { createPpoActivities } from '../activities/ppo-activities';
import { ORCHESTRATOR_QUEUE } from '../core/queues';

/** Orchestrator: every workflow plus the light activities (task metadata, agents, artifact writes). */
export async function createOrchestratorWorker(p: { connection: NativeConnection; namespace: string }): Promise<Worker> {
  return Worker.create({
    connection: p.connection,
    namespace: p.namespace,
    taskQueue: ORCHESTRATOR_QUEUE,
    workflowsPath: require.resolve('../workflows'),
    activities: { ...createOrchestratorActivities(), ...createDatasetActivities(), ...createIdeaActivities(), ...createPpoActivities(), ...createFinishedChildActivities() },
  });
}

if (require.main === module) runWorkerMain('orchestrator', createOrchestratorWorker);
