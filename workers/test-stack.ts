import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startLocalTemporal } from '../temporal-config/local-server';
import { createOrchestratorWorker } from './orchestrator';
import { createSandboxWorkers } from './sandbox';

/**
 * A private stack for tests and benchmarks: a real dev server plus the orchestrator and sandbox workers in this
 * process (the model worker is separate). The host id is this process's own: a sandbox worker reclaims its host's
 * containers at start, so two stacks running at once must not share one.
 */
export interface TestStack {
  env: TestWorkflowEnvironment;
  namespace: string;
  stop(): Promise<void>;
}

export async function startTestStack(p: { uiPort?: number } = {}): Promise<TestStack> {
  const env = await startLocalTemporal(p);
  const namespace = env.namespace ?? 'default';
  const workers: Worker[] = [
    await createOrchestratorWorker({ connection: env.nativeConnection, namespace }),
    ...(await createSandboxWorkers({ connection: env.nativeConnection, namespace, hostId: `test-host-${process.pid}` })),
  ];
  const running = workers.map((w) => w.run());
  return {
    env,
    namespace,
    async stop() {
      for (const w of workers) w.shutdown();
      await Promise.allSettled(running);
      await env.teardown();
    },
  };
}

/** The model worker as its own process, as in production (native tfjs stays out of workflow threads). */
export function startModelWorkerProcess(stack: TestStack): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'model.ts')], {
    env: { ...process.env, TEMPORAL_ADDRESS: stack.env.address, TEMPORAL_NAMESPACE: stack.namespace },
    stdio: 'ignore',
  });
}
