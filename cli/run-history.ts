import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

/** One activity call of a history: its input, and its result once it completed (retries are one call). */
export interface ActivityCall {
  name: string;
  input: unknown;
  result?: unknown;
}

/** A workflow of a run and the workflows it started, read from the histories. */
export interface RunNode {
  workflowId: string;
  type: string;
  input: unknown;
  /** RUNNING, COMPLETED, FAILED, … of the last run of its chain. */
  status: string;
  result?: unknown;
  activities: ActivityCall[];
  children: RunNode[];
}

function decode(payloads: Payloads): unknown {
  const p = payloads?.payloads?.[0];
  return p ? defaultPayloadConverter.fromPayload(p as Payload) : undefined;
}

/** Every event of a workflow over all runs of its continue-as-new chain, oldest run first. */
async function chainEvents(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  const runs: HistoryEvent[][] = [];
  let runId: string | undefined;
  do {
    const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    runs.unshift(events);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  } while (runId);
  return runs.flat();
}

const CLOSED: [keyof HistoryEvent, string][] = [
  ['workflowExecutionCompletedEventAttributes', 'COMPLETED'],
  ['workflowExecutionFailedEventAttributes', 'FAILED'],
  ['workflowExecutionTimedOutEventAttributes', 'TIMED_OUT'],
  ['workflowExecutionCanceledEventAttributes', 'CANCELLED'],
  ['workflowExecutionTerminatedEventAttributes', 'TERMINATED'],
];

/** The activity calls (in schedule order, with results) and child workflow ids of a chain's events, every run's in turn. */
export function chainCalls(events: HistoryEvent[]): { calls: ActivityCall[]; childIds: string[] } {
  // event ids restart in every run of a continue-as-new chain: key activities by run and event id
  const calls = new Map<string, ActivityCall>();
  const childIds: string[] = [];
  let run = -1;
  for (const e of events) {
    if (e.workflowExecutionStartedEventAttributes) run++;
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) calls.set(`${run}:${e.eventId}`, { name: scheduled.activityType?.name ?? '?', input: decode(scheduled.input) });
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) calls.get(`${run}:${completed.scheduledEventId}`)!.result = decode(completed.result);
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    if (child) childIds.push(child);
  }
  return { calls: [...calls.values()], childIds };
}

/** The run tree of `workflowId`: each workflow's activities and child workflows, recursively. */
export async function runTree(client: Client, workflowId: string): Promise<RunNode> {
  const events = await chainEvents(client, workflowId);
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  if (!started) throw new Error(`${workflowId}: no history`);
  const last = events.at(-1)!;
  const status = CLOSED.find(([key]) => last[key])?.[1] ?? 'RUNNING';
  const { calls, childIds } = chainCalls(events);
  return {
    workflowId,
    type: started.workflowType?.name ?? '?',
    input: decode(started.input),
    status,
    result: status === 'COMPLETED' ? decode(last.workflowExecutionCompletedEventAttributes!.result) : undefined,
    activities: calls,
    children: await Promise.all(childIds.map((id) => runTree(client, id))),
  };
}
