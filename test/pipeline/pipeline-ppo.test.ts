import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import { failureMessage } from '../../core/failure-message';
import { PIPELINE_AGENTS } from '../../core/evaluation';
import type { PipelineInput } from '../../core/pipeline-schema';
import type { PpoIterationMetrics } from '../../core/ppo-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import type { PipelineResult } from '../../workflows/pipeline';
import { ppoProgressQuery, stopPpoSignal } from '../../workflows/ppo';
import { startModelWorkerProcess, startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let modelWorker: ChildProcess;

before(async () => {
  stack = await startTestStack();
  modelWorker = startModelWorkerProcess(stack);
});
after(async () => {
  modelWorker?.kill('SIGKILL');
  await stack?.stop();
});

// The smallest whole run: one expert episode, a few SFT steps of a tiny model, one PPO iteration on its states.
const INPUT: PipelineInput = {
  collect: { tasks: ['co2'], ideasPerTask: 1, episodesPerTask: 1, ideasPerEpisode: { min: 1, max: 1 }, concurrency: 1 },
  sft: {
    tokenizerVocabSize: 1024, epochs: 1, batchSize: 4, seqLen: 2048, lr: 3e-3, warmupSteps: 1,
    modelConfig: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 2048 },
  },
  ppo: { iterations: 1, statesPerIteration: 1, actionsPerState: 1, minibatchSize: 1, maxNewTokens: 32 },
};

test('trainPipeline runs collection → SFT → step-wise PPO as children, PPO from the SFT checkpoint on the collection\'s pool and reward scales', { timeout: 900_000 }, async () => {
  const handle = await stack.env.client.workflow.start('trainPipeline', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-pipeline-ppo-${Date.now()}`, args: [INPUT] });
  const res = (await handle.result().catch((err: unknown) => assert.fail(`pipeline failed: ${failureMessage(err)}`))) as PipelineResult;
  assert.ok(res.ppo && res.collect && res.sft, 'every stage ran');
  assert.equal(res.ppo.iterations, 1);
  assert.deepEqual(res.ppo.rewardScales, res.collect.rewardScales, 'PPO rewards with the scales the collection fixed');
  assert.notEqual(res.ppo.policy.sha256, res.sft.checkpoint.sha256, 'PPO updated the SFT policy');
  const log = (await new ArtifactStore().get(res.ppo.metricsLog)).toString().trim().split('\n').map((l) => JSON.parse(l) as PpoIterationMetrics);
  assert.equal(log.length, 1);
  const children = ((await handle.fetchHistory()).events ?? []).flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ?? []);
  assert.deepEqual(children, ['collectTrajectories', 'sft', 'ppo']);
});

test('a stop sent to the PPO child ends PPO after its iteration in progress, and the pipeline goes on to its evaluation', { timeout: 900_000 }, async () => {
  // more iterations than could ever run here: only the signal ends PPO
  const input: PipelineInput = { ...INPUT, ppo: { ...INPUT.ppo, iterations: 10_000 }, evaluate: { tasks: ['co2'], k: 1, concurrency: 1, limits: { maxSteps: 1 } } };
  const handle = await stack.env.client.workflow.start('trainPipeline', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-pipeline-ppo-stop-${Date.now()}`, args: [input] });
  const child = stack.env.client.workflow.getHandle(`${handle.workflowId}/ppo`);
  for (;;) {
    // a condition decides, not a timer: the child exists and has finished an iteration
    const iteration = await child.query(ppoProgressQuery).then((p) => p.iteration, () => 0);
    if (iteration >= 1) break;
    const failed = await handle.describe().then((d) => d.status.name !== 'RUNNING');
    if (failed) assert.fail(`pipeline ended before PPO finished an iteration: ${failureMessage(await handle.result().catch((e: unknown) => e))}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await child.signal(stopPpoSignal);
  const res = (await handle.result().catch((err: unknown) => assert.fail(`pipeline failed: ${failureMessage(err)}`))) as PipelineResult;
  assert.ok(res.ppo?.stopped, 'PPO reports its stop');
  assert.ok(res.ppo.iterations >= 1 && res.ppo.iterations < 10_000, `PPO ran ${res.ppo.iterations} iterations`);
  assert.equal(res.stopped, false, 'the pipeline itself was not stopped');
  assert.ok(res.evaluate, 'the evaluation ran after the stopped PPO');
  assert.ok(res.evaluate.scores.some((s) => s.agent === PIPELINE_AGENTS.mlAgent), `the PPO policy was evaluated: ${JSON.stringify(res.evaluate.scores.map((s) => s.agent))}`);
});

test('an unknown key anywhere in the pipeline input is rejected before any stage starts, naming it', { timeout: 60_000 }, async () => {
  const bad = { ...INPUT, ppo: { ...INPUT.ppo, iteratons: 3 } } as PipelineInput;
  const handle = await stack.env.client.workflow.start('trainPipeline', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-pipeline-bad-${Date.now()}`, args: [bad] });
  const err = await handle.result().then(() => undefined, (e: unknown) => e);
  assert.match(failureMessage(err), /invalid trainPipeline input: ppo: .*iteratons/);
  const children = ((await handle.fetchHistory()).events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  assert.equal(children.length, 0);
});
