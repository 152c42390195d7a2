import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { MODEL_QUEUE, SANDBOX_QUEUE } from '../../core/queues';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Where a PPO run's time went, from its history: sandbox work summed over containers, model calls as waited for. */
export interface PpoTimeSplit {
  /** Start-to-close time of the sandbox-queue activities (the pool queue and the hosts' own) by type, summed over parallel containers. */
  sandboxSeconds: Record<string, number>;
  /** Scheduled-to-closed time of the model-queue calls by activity type (queue wait and retries included). */
  modelSeconds: Record<string, number>;
}

/**
 * A PPO iteration waits on one model call at a time (rollouts, then the update), so the model seconds are wall time
 * of the iteration; the rest of its wall time is sandbox work, rewards, sampling and workflow tasks.
 */
export function ppoTimeSplit(events: HistoryEvent[]): PpoTimeSplit {
  const scheduled = new Map<string, { queue: string; type: string; at: number }>();
  const startedAt = new Map<string, number>();
  const split: PpoTimeSplit = { sandboxSeconds: {}, modelSeconds: {} };
  const add = (to: Record<string, number>, type: string, ms: number) => (to[type] = (to[type] ?? 0) + ms / 1000);
  for (const e of events) {
    const at = tsToMs(e.eventTime);
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), { queue: s.taskQueue?.name ?? '', type: s.activityType?.name ?? '', at });
    const started = e.activityTaskStartedEventAttributes;
    if (started) startedAt.set(String(e.eventId), at);
    const ended = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    const of = ended ? scheduled.get(String(ended.scheduledEventId)) : undefined;
    if (!ended || !of) continue;
    const from = startedAt.get(String(ended.startedEventId));
    if (of.queue.startsWith(SANDBOX_QUEUE) && from !== undefined) add(split.sandboxSeconds, of.type, at - from);
    if (of.queue === MODEL_QUEUE) add(split.modelSeconds, of.type, at - of.at);
  }
  return split;
}
