import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { failureMessage } from '../../core/failure-message';
import type { PipelineInput } from '../../core/pipeline-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { MLAGENT_PIPELINE_STAGE } from '../../core/search-attributes';
import { pausePipelineSignal, pipelineProgressQuery, resumePipelineSignal, stopPipelineSignal, type PipelineProgress, type PipelineResult } from '../../workflows/pipeline';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
before(async () => {
  stack = await startTestStack();
});
after(async () => {
  await stack?.stop();
});

/** Polls until `ok` holds (a condition, not a sleep, decides). */
async function waitFor<T>(p: { what: string; read: () => Promise<T>; ok: (v: T) => boolean; timeoutMs?: number }): Promise<T> {
  const deadline = Date.now() + (p.timeoutMs ?? 300_000);
  for (;;) {
    const v = await p.read();
    if (p.ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${p.what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const progress = (h: WorkflowHandle) => h.query(pipelineProgressQuery);
const stageAttribute = async (h: WorkflowHandle) => (await h.describe()).typedSearchAttributes.get(MLAGENT_PIPELINE_STAGE);
const childTypes = async (h: WorkflowHandle) =>
  ((await h.fetchHistory()).events ?? []).flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ?? []);

// The smallest collection (1 task, 1 idea, 1 scripted episode of 2 steps); the SFT checkpoint is given, so the
// stages after collection are PPO and nothing else. No model worker runs: the test stops the run before PPO.
const INPUT: PipelineInput = {
  collect: { tasks: ['co2'], ideasPerTask: 1, minCandidates: 10, episodesPerTask: 1, ideasPerEpisode: { min: 1, max: 1 }, concurrency: 1, limits: { maxSteps: 2 } },
  from: { sftCheckpoint: { sha256: '0'.repeat(64), size: 1, kind: 'checkpoint' } },
  ppo: { iterations: 1 },
};

test('pause holds the run before a stage, resume lets it go on, stop ends it after the stage in progress; progress and the stage attribute show each', { timeout: 600_000 }, async () => {
  const handle = await stack.env.client.workflow.signalWithStart('trainPipeline', {
    taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-pipeline-control-${Date.now()}`, args: [INPUT], signal: pausePipelineSignal, signalArgs: [],
  });
  const paused = await waitFor({ what: 'the paused stage attribute', read: () => stageAttribute(handle), ok: (v) => v === 'paused' });
  assert.equal(paused, 'paused');
  const held: PipelineProgress = await progress(handle);
  assert.equal(held.paused, true);
  assert.deepEqual([held.stages.collect.status, held.stages.sft.status, held.stages.ppo.status, held.stages.evaluate.status], ['pending', 'reused', 'pending', 'skipped']);
  assert.deepEqual(await childTypes(handle), [], 'nothing starts while paused');

  await handle.signal(resumePipelineSignal);
  const running = await waitFor({ what: 'the collection to start', read: () => progress(handle), ok: (p) => p.stages.collect.status === 'running' });
  assert.equal(running.stages.collect.workflowId, `${handle.workflowId}/collect`);
  assert.equal(await stageAttribute(handle), 'collect');
  await handle.signal(stopPipelineSignal);

  const res = (await handle.result().catch((err: unknown) => assert.fail(`pipeline failed: ${failureMessage(err)}`))) as PipelineResult;
  assert.equal(res.stopped, true);
  assert.ok(res.collect, 'the stage in progress finished');
  assert.equal(res.ppo, undefined, 'the next stage did not start');
  assert.equal(res.refs.collect?.statesPool.sha256, res.collect.statesPool.sha256);
  assert.deepEqual(res.refs.collect?.rewardScales, res.collect.rewardScales);
  const done = await progress(handle);
  assert.deepEqual([done.stages.collect.status, done.stages.ppo.status], ['done', 'stopped']);
  assert.equal(done.stages.collect.counters.episodes, 1);
  assert.equal(await stageAttribute(handle), 'stopped');
  assert.deepEqual(await childTypes(handle), ['collectTrajectories']);

  // A new run from this one's refs skips what they cover: with a checkpoint and no PPO or evaluation, nothing is left.
  const again = await stack.env.client.workflow.start('trainPipeline', {
    taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-pipeline-from-${Date.now()}`, args: [{ from: { collect: res.refs.collect, sftCheckpoint: INPUT.from!.sftCheckpoint } }],
  });
  const reused = (await again.result()) as PipelineResult;
  assert.deepEqual(reused.refs.collect, res.refs.collect);
  assert.equal(reused.stopped, false);
  assert.deepEqual(await childTypes(again), [], 'no stage redone');
  const p = await progress(again);
  assert.deepEqual([p.stages.collect.status, p.stages.sft.status], ['reused', 'reused']);
});

test('a pipeline input that needs a collection and has none is rejected naming `collect`', { timeout: 60_000 }, async () => {
  const handle = await stack.env.client.workflow.start('trainPipeline', {
    taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-pipeline-nocollect-${Date.now()}`, args: [{ ppo: { iterations: 1 }, from: INPUT.from }],
  });
  const err = await handle.result().then(() => undefined, (e: unknown) => e);
  assert.match(failureMessage(err), /invalid trainPipeline input: collect: required/);
});
