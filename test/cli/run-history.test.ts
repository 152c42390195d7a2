import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { chainCalls } from '../../cli/run-history';

const payloads = (v: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(v)] });
/** One run's events: started, then each activity scheduled and completed (event ids from 1, as Temporal numbers them). */
function runEvents(activities: string[]) {
  let id = 1;
  const events: object[] = [{ eventId: id++, workflowExecutionStartedEventAttributes: {} }];
  for (const name of activities) {
    const scheduled = id++;
    events.push({ eventId: scheduled, activityTaskScheduledEventAttributes: { activityType: { name }, input: payloads(`${name} in`) } });
    events.push({ eventId: id++, activityTaskCompletedEventAttributes: { scheduledEventId: scheduled, result: payloads(`${name} out`) } });
  }
  return events;
}

test('a continue-as-new chain keeps every run’s activities, in order, although event ids restart per run', { timeout: 10_000 }, () => {
  const { calls } = chainCalls([...runEvents(['a1', 'a2', 'a3']), ...runEvents(['b1', 'b2'])] as never);
  assert.deepEqual(calls.map((c) => [c.name, c.input, c.result]), [
    ['a1', 'a1 in', 'a1 out'], ['a2', 'a2 in', 'a2 out'], ['a3', 'a3 in', 'a3 out'], ['b1', 'b1 in', 'b1 out'], ['b2', 'b2 in', 'b2 out'],
  ]);
});
