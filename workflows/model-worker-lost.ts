import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { MODEL_QUEUE } from '../core/queues';

/**
 * For a model-queue activity with a schedule-to-start timeout of `lostAfterSec` (which Temporal does not retry):
 * turns that timeout into a failure saying what is missing, so a run without a model worker fails at once instead
 * of waiting out its time limit and scoring as the starter.
 */
export function failIfModelWorkerLost(lostAfterSec: number): (err: unknown) => never {
  return (err) => {
    if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START') {
      throw ApplicationFailure.nonRetryable(
        `no model worker picked up the policy's decision within ${lostAfterSec} s: is a model worker (workers/model.ts, started by \`mlagent dev up\`) polling task queue ${MODEL_QUEUE}?`,
        'ModelWorkerUnavailable',
      );
    }
    throw err;
  };
}
