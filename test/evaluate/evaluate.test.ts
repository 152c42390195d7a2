import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { agentSummary, scoreTask, type EvaluateInput } from '../../core/evaluation';
import { failureMessage } from '../../core/failure-message';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { loadTask } from '../../activities/tasks/registry';
import type { EvaluateResult } from '../../workflows/evaluate';
import { startTestStack, type TestStack } from '../helpers/stack';

test('avg@K and best@K follow the metric direction; a failed episode counts as the starter', () => {
  const up = scoreTask({ agent: 'a', task: 't', higherIsBetter: true, mInit: 0.5, metrics: [0.6, null, 0.7] });
  assert.ok(Math.abs(up.avgAtK - 0.6) < 1e-12);
  assert.equal(up.bestAtK, 0.7);
  assert.ok(Math.abs(up.relativeGain - 0.2) < 1e-12);
  const down = scoreTask({ agent: 'a', task: 'u', higherIsBetter: false, mInit: 2, metrics: [1, 3] });
  assert.equal(down.bestAtK, 1);
  assert.equal(down.relativeGain, 0);
  assert.deepEqual(agentSummary([up, down]), { a: { tasks: 2, meanRelativeGain: up.relativeGain / 2 } });
});

let stack: TestStack;
before(async () => {
  stack = await startTestStack();
});
after(async () => {
  await stack?.stop();
});

test('a real held-out evaluation: the idea-less scripted baseline reproduces the starter exactly', { timeout: 600_000 }, async () => {
  const input: EvaluateInput = { tasks: ['nmes1988'], agents: [{ name: 'scripted', agent: { kind: 'scripted' } }], k: 2, seed: 1 };
  const handle = await stack.env.client.workflow.start('evaluate', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `it-eval-${Date.now()}`, args: [input] });
  const result = (await handle.result().catch((err: unknown) => assert.fail(`evaluation failed: ${failureMessage(err)}`))) as EvaluateResult;
  const [score] = result.scores;
  assert.equal(score.metrics.length, 2);
  assert.ok(score.metrics.every((m) => m !== null && Math.abs(m - loadTask('nmes1988').m_init) < 1e-9), `${score.metrics}`);
  assert.ok(Math.abs(score.relativeGain) < 1e-9);
});

test('evaluation input is validated, naming the field', async () => {
  const handle = await stack.env.client.workflow.start('evaluate', {
    taskQueue: ORCHESTRATOR_QUEUE,
    workflowId: `it-eval-bad-${Date.now()}`,
    args: [{ tasks: ['nmes1988'], agents: [], k: 0 } as EvaluateInput],
  });
  const err = await handle.result().then(() => undefined, (e: unknown) => e);
  assert.match(failureMessage(err), /invalid evaluate input: agents: .*; k: /);
});
