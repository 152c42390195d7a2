import { isDeepStrictEqual } from 'node:util';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

/** What a run's workflow may ask of its own Temporal namespace (through the worker's client). */
export function createFinishedChildActivities() {
  return {
    /**
     * The result of workflow `workflowId` when it completed (its last run, across continue-as-new) and its first run
     * was started with exactly `input`, else null. A stage that an earlier run under the same id finished from the
     * same input can stand; from another input, it is run again.
     */
    async finishedChild(a: { workflowId: string; input: unknown }): Promise<{ result: unknown } | null> {
      const { client } = Context.current();
      const described = await client.workflow
        .getHandle(a.workflowId)
        .describe()
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        });
      if (described?.status.name !== 'COMPLETED') return null;
      const firstRun = described.raw.workflowExecutionInfo?.firstRunId || described.runId;
      const history = await client.workflow.getHandle(a.workflowId, firstRun).fetchHistory();
      const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      const input = payload ? defaultPayloadConverter.fromPayload(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]) : undefined;
      // both sides as JSON, as they travelled: keys with undefined values are absent in each
      if (!isDeepStrictEqual(input, JSON.parse(JSON.stringify(a.input ?? null)))) return null;
      return { result: await client.workflow.getHandle(a.workflowId).result() };
    },
  };
}
export type FinishedChildActivities = ReturnType<typeof createFinishedChildActivities>;
