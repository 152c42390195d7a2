/** Task queues (DESIGN.md "Processes and task queues"). */
export const ORCHESTRATOR_QUEUE = 'mlagent';
export const SANDBOX_QUEUE = 'mlagent-sandbox';
export const MODEL_QUEUE = 'mlagent-model';

/** Each sandbox host also listens on its own queue: actions on a container must run where it lives. */
export function sandboxHostQueue(hostId: string): string {
  return `${SANDBOX_QUEUE}@${hostId}`;
}
