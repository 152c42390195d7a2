import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { failureMessage } from '../../core/failure-message';
import type { PipelineInput } from '../../core/pipeline-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { pipelineProgressQuery, stopPipelineSignal, type PipelineResult } from '../../workflows/pipeline';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
before(async () => {
  stack = await startTestStack();
});
after(async () => {
  await stack?.stop();
});

/** The child workflows a run started, with their inputs, from its history. */
async function children(h: WorkflowHandle): Promise<{ type: string; input: unknown }[]> {
  return ((await h.fetchHistory()).events ?? []).flatMap((e) => {
    const a = e.startChildWorkflowExecutionInitiatedEventAttributes;
    const payload = a?.input?.payloads?.[0];
    return a ? [{ type: a.workflowType?.name ?? '?', input: payload ? defaultPayloadConverter.fromPayload(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]) : undefined }] : [];
  });
}

// The smallest collection (1 task, 1 idea, 1 scripted episode of 2 steps), then PPO from a given checkpoint. No model
// worker runs: the first run is stopped after its collection; later runs fail in PPO within 3 s (schedule-to-start).
const input = (seed: number): PipelineInput => ({
  collect: { tasks: ['co2'], ideasPerTask: 1, minCandidates: 10, episodesPerTask: 1, ideasPerEpisode: { min: 1, max: 1 }, concurrency: 1, seed, limits: { maxSteps: 2 } },
  from: { sftCheckpoint: { sha256: '0'.repeat(64), size: 1, kind: 'checkpoint' } },
  ppo: { iterations: 1, modelWorkerLostAfterSec: 3 },
});

test('a new run under the id of a finished one takes its finished stages (same child id, same input) and redoes one whose input changed', { timeout: 600_000 }, async () => {
  const client = stack.env.client;
  const workflowId = `it-pipeline-reuse-${Date.now()}`;
  const first = await client.workflow.start('trainPipeline', { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [input(1)] });
  for (let i = 0; (await first.query(pipelineProgressQuery)).stages.collect.status !== 'running'; i++) {
    assert.ok(i < 1200, 'the collection started');
    await new Promise((r) => setTimeout(r, 250));
  }
  await first.signal(stopPipelineSignal);
  const done = (await first.result().catch((err: unknown) => assert.fail(`first run failed: ${failureMessage(err)}`))) as PipelineResult;
  assert.ok(done.collect && done.stopped, 'the first run finished its collection and stopped');

  const ppoFailure = async (h: WorkflowHandle) => {
    const err = await h.result().then(() => assert.fail('PPO ran without a model worker'), (e: unknown) => e);
    assert.match(failureMessage(err), /no model worker picked up ppoRollout within 3 s/);
  };
  // Same id, same input: the finished collection stands; PPO (never finished) starts, on the collection's states pool.
  const second = await client.workflow.start('trainPipeline', { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [input(1)] });
  await ppoFailure(second);
  const started = await children(second);
  assert.deepEqual(started.map((c) => c.type), ['ppo'], 'the collection was not redone');
  assert.equal((started[0]!.input as { statesPool: { sha256: string } }).statesPool.sha256, done.collect.statesPool.sha256);
  const progress = await second.query(pipelineProgressQuery);
  assert.deepEqual([progress.stages.collect.status, progress.stages.collect.workflowId], ['reused', `${workflowId}/collect`]);
  assert.equal(progress.stages.collect.counters.episodes, 1);

  // Same id, another collection seed: the collection is run again; the failed PPO is not a finished stage either.
  const third = await client.workflow.start('trainPipeline', { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [input(2)] });
  await ppoFailure(third);
  assert.deepEqual((await children(third)).map((c) => c.type), ['collectTrajectories', 'ppo']);
});
