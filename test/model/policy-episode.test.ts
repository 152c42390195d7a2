import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import type { EpisodeInput, StepRecord } from '../../core/episode-schema';
import { failureMessage } from '../../core/failure-message';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { checkpointFiles, putCheckpoint } from '../../model/checkpoint';
import { Qwen2Model } from '../../model/qwen2';
import { startModelWorkerProcess, startTestStack, type TestStack } from '../helpers/stack';
import { tinyConfig, tinyTokenizer } from './fixtures';

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

test('a policy agent acts from a checkpoint on the model worker; what it says is executed or fed back as invalid', { timeout: 300_000 }, async () => {
  const tokenizer = tinyTokenizer();
  // Positions for the whole prompt: its instructions and task are never cut (about 1500 tiny-tokenizer tokens).
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tokenizer.vocabSize, max_position_embeddings: 2048 }), 7);
  const checkpoint = await putCheckpoint(new ArtifactStore(), checkpointFiles(model, tokenizer));
  model.dispose();

  const input: EpisodeInput = { task: 'co2', agent: { kind: 'policy', checkpoint, temperature: 1, maxNewTokens: 96 }, limits: { maxSteps: 3 }, seed: 2 };
  const handle = await stack.env.client.workflow.start('runEpisode', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-policy-${Date.now()}`, args: [input] });
  const summary = await handle.result().catch((err: unknown) => assert.fail(`episode failed: ${failureMessage(err)}`));
  assert.equal(summary.steps, 3);
  assert.equal(summary.endReason, 'max_steps');

  const steps = (await new ArtifactStore().get(summary.trajectory)).toString().trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
  for (const s of steps) {
    const usage = s.usage?.[0];
    assert.ok(usage, 'each decision records its token counts');
    assert.ok(usage.model.startsWith(`policy:${checkpoint.sha256.slice(0, 12)}`), 'the decision is the policy\'s');
    assert.ok(usage.completionTokens > 0 && usage.completionTokens <= 96);
    // An untrained policy rarely writes a valid action; whatever it writes is handled, never a crash.
    if (s.kind === 'invalid') assert.match(s.observation, /^Invalid action: /);
    assert.equal(s.reward === 0, s.kind === 'invalid' || s.kind === 'error');
    // constrained decoding is grounded in the step's workspace: no path that is not there, no edit that cannot apply
    assert.doesNotMatch(s.observation, /no such (file|directory)|outside the workspace|old text not found|more than once|needs a coder LLM/, s.response);
  }
  const history = (await handle.fetchHistory()).events ?? [];
  const decided = history.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'policyAct');
  assert.equal(decided.length, 3);
  assert.equal(decided[0].activityTaskScheduledEventAttributes?.taskQueue?.name, 'mlagent-model');
});
