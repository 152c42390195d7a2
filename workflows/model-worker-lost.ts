import { ActivityFailure, ApplicationFailure, proxyActivities, TimeoutFailure, type ActivityFunction, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
import { MODEL_QUEUE } from '../core/queues';

/**
 * For a model-queue activity with a schedule-to-start timeout of `lostAfterSec` (which Temporal does not retry):
 * turns that timeout into a failure saying what is missing, so a run without a model worker fails at once instead
 * of waiting out its time limit and scoring as the starter.
 */
export function failIfModelWorkerLost(lostAfterSec: number): (err: unknown) => never {
  return (err) => {
    if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START') {
      const work = err.activityType === 'policyAct' ? "the policy's decision" : err.activityType;
      throw ApplicationFailure.nonRetryable(
        `no model worker picked up ${work} within ${lostAfterSec} s: is a model worker (workers/model.ts, started by \`mlagent dev up\`) polling task queue ${MODEL_QUEUE}?`,
        'ModelWorkerUnavailable',
      );
    }
    throw err;
  };
}

/**
 * The model queue's activities, each with a schedule-to-start timeout of `lostAfterSec` and failing as
 * `failIfModelWorkerLost` says when no model worker picks it up in time (SFT, PPO: a stage must not hang on a
 * dead model worker).
 */
export function proxyModelActivities<A extends object>(p: { options: ActivityOptions; lostAfterSec: number }): ActivityInterfaceFor<A> {
  const activities = proxyActivities<A>({ ...p.options, taskQueue: MODEL_QUEUE, scheduleToStartTimeout: `${p.lostAfterSec} seconds` });
  const lost = failIfModelWorkerLost(p.lostAfterSec);
  return new Proxy(activities, {
    get(target, name) {
      const fn = Reflect.get(target, name) as ActivityInterfaceFor<Record<string, ActivityFunction>>[string];
      const call = (...args: unknown[]) => fn(...args).catch(lost);
      call.executeWithOptions = (options: ActivityOptions, args: unknown[]) => fn.executeWithOptions(options, args).catch(lost);
      return call;
    },
  });
}
