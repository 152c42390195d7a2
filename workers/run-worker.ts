import { NativeConnection, type Worker } from '@temporalio/worker';
import { llmConfigFromEnv } from '../activities/llm/client';
import { temporalSettings } from '../temporal-config/connection';

/** Process entry of a worker file: connect with the env's settings, say what runs, run until a shutdown signal. */
export function runWorkerMain(name: string, create: (p: { connection: NativeConnection; namespace: string }) => Promise<Worker | Worker[]>): void {
  const s = temporalSettings();
  const llm = llmConfigFromEnv();
  NativeConnection.connect({ address: s.address, tls: s.tls })
    .then((connection) => create({ connection, namespace: s.namespace }))
    .then((created) => {
      const workers = Array.isArray(created) ? created : [created];
      const queues = workers.map((w) => w.options.taskQueue).join(', ');
      console.log(`${name} worker: ${s.address} namespace ${s.namespace}, queues ${queues}; LLM ${llm ? `${llm.baseUrl} (${llm.model ?? 'no chat model'})` : 'offline (set MLAGENT_LLM_BASE_URL to use one)'}`);
      return Promise.all(workers.map((w) => w.run()));
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
