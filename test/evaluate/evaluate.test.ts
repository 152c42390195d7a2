import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import { loadTask } from '../../activities/tasks/registry';
import type { EpisodeSummary } from '../../core/episode-schema';
import {
  agentSummary,
  EvaluateInput,
  PipelineEvaluate,
  pipelineEvaluationAgents,
  relativeGain,
  scoreTask,
  starterScore,
  type EpisodeOutcome,
} from '../../core/evaluation';
import { evaluationMarkdown, evaluationText } from '../../core/evaluation-table';
import { failureMessage } from '../../core/failure-message';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import type { EvaluateResult } from '../../workflows/evaluate';
import { startTestStack, type TestStack } from '../helpers/stack';
import { chatReply, startFakeOpenAiServer, type FakeOpenAiServer, type SeenRequest } from '../llm/fake-openai-server';

const close = (a: number | null, b: number) => a !== null && Math.abs(a - b) < 1e-12;
const ok = (workflowId: string, finalMetric: number | null, steps: number, validActions: number, actionsWithoutError: number | null = validActions): EpisodeOutcome => ({
  workflowId, ok: true, finalMetric, steps, validActions, actionsWithoutError,
});
const failed = (workflowId: string, error: string): EpisodeOutcome => ({ workflowId, ok: false, error });
const ref = { task: 't', higherIsBetter: true, mInit: 0.5 };

describe('evaluation metrics against hand-computed values', () => {
  // K = 4: 0.6, no scored submission (counts as m_init 0.5), a failure (left out), 0.7. Of the valid actions
  // 4, 3 and 1, those that also ran without error: 3, 1 and 1.
  const up = scoreTask({ ...ref, agent: 'a', outcomes: [ok('e0', 0.6, 4, 4, 3), ok('e1', null, 5, 3, 1), failed('e2', 'boom'), ok('e3', 0.7, 1, 1, 1)] });
  // lower is better, m_init 2: episodes 1 and 2.5 → avg@K 1.75, Δ_r = −(1.75 − 2)/2 = 0.125.
  const down = scoreTask({ task: 'u', higherIsBetter: false, mInit: 2, agent: 'a', outcomes: [ok('f0', 1, 2, 1, 1), ok('f1', 2.5, 2, 2, 0)] });
  const dead = scoreTask({ ...ref, task: 'v', agent: 'a', outcomes: [failed('g0', 'no worker'), failed('g1', 'no worker')] });

  test('avg@K over completed episodes, an unscored submission as m_init, failures counted and named', () => {
    assert.ok(close(up.avgAtK, (0.6 + 0.5 + 0.7) / 3), `${up.avgAtK}`);
    assert.equal(up.bestAtK, 0.7);
    assert.ok(close(up.relativeGain, (0.6 - 0.5) / 0.5), `${up.relativeGain}`);
    assert.ok(close(up.validActionRate, 8 / 10));
    assert.ok(close(up.actionsWithoutErrorRate, 5 / 10), `${up.actionsWithoutErrorRate}`);
    assert.equal(up.validSubmissionRate, 2 / 4);
    assert.deepEqual([up.k, up.failed, up.errors, up.metrics], [4, 1, ['e2: boom'], [0.6, null, 0.7]]);
  });

  test('the metric direction decides best@K and the sign of Δ_r', () => {
    assert.ok(close(down.avgAtK, 1.75));
    assert.equal(down.bestAtK, 1);
    assert.ok(close(down.relativeGain, 0.125));
    assert.ok(close(relativeGain({ metric: 2.5, mInit: 2, higherIsBetter: false }), -0.25));
    assert.equal(down.validActionRate, 3 / 4);
    assert.equal(down.actionsWithoutErrorRate, 1 / 4);
  });

  test('all episodes failed: an error row, no metric, not a 0% gain', () => {
    assert.deepEqual([dead.avgAtK, dead.bestAtK, dead.relativeGain, dead.validActionRate, dead.actionsWithoutErrorRate, dead.validSubmissionRate, dead.failed], [null, null, null, null, null, 0, 2]);
  });

  test('actions without error are unknown (not 0%) when an episode recorded before they were counted is among the completed', () => {
    const mixed = scoreTask({ ...ref, agent: 'a', outcomes: [ok('h0', 0.6, 2, 2, 2), ok('h1', 0.6, 3, 3, null)] });
    assert.deepEqual([mixed.validActionRate, mixed.actionsWithoutErrorRate], [1, null]);
    assert.match(evaluationText({ scores: [mixed], agents: {} }), /a +t +2 +0\.6 +0\.6 +0\.5 +20\.0% +100% +- +100% +0\/2/);
  });

  test('the starter row is m_init with 0% by definition; agent means skip error rows', () => {
    const starter = starterScore(ref);
    assert.deepEqual([starter.agent, starter.source, starter.avgAtK, starter.bestAtK, starter.relativeGain, starter.k], ['starter', 'starter', 0.5, 0.5, 0, 0]);
    const summary = agentSummary([up, down, dead]).a!;
    assert.equal(summary.tasks, 2);
    assert.ok(close(summary.meanRelativeGain, (0.2 + 0.125) / 2));
    assert.equal(summary.failedEpisodes, 3);
    const text = evaluationText({ scores: [starter, up, dead], agents: agentSummary([starter, up, dead]) });
    assert.match(text, /starter +t +- +0\.5 +0\.5 +0\.5 +0% \(by definition\)/);
    assert.match(text, /valid actions +actions without error +valid submissions +failed/);
    assert.match(text, /a +t +4 +0\.6 +0\.7 +0\.5 +20\.0% +80% +50% +50% +1\/4/);
    assert.match(text, /a +v +2 +error +error +0\.5 +- +- +- +0% +2\/2/);
    assert.match(text, /error \(a on v\): g0: no worker/);
    assert.match(evaluationMarkdown({ scores: [starter], agents: {} }), /^\| agent \| task \| K \| avg@K .*\n\| --- \| --- \|/);
  });

  test('the pipeline evaluates base, SFT, SFT + PPO, the idea-rich reference and extra agents; names and inputs are checked', () => {
    const ckpt = (c: string) => ({ sha256: c.repeat(64), size: 1, kind: 'checkpoint' });
    const evaluate = PipelineEvaluate.parse({ tasks: ['nmes1988'], agents: [{ name: 'gpt', agent: { kind: 'llm', model: 'gpt-x' } }] });
    const names = (p: Parameters<typeof pipelineEvaluationAgents>[0]) => pipelineEvaluationAgents(p).map((a) => a.name);
    assert.deepEqual(names({ evaluate, base: ckpt('a'), sft: ckpt('b'), ppo: ckpt('c') }), ['base', 'sft', 'ml-agent', 'scripted+ideas', 'gpt']);
    assert.deepEqual(names({ evaluate, sft: ckpt('b') }), ['sft', 'scripted+ideas', 'gpt']);
    assert.match(JSON.stringify(PipelineEvaluate.safeParse({ tasks: ['x'], agents: [{ name: 'sft', agent: { kind: 'scripted' } }] }).error?.issues), /pipeline's own rows/);
    const issues = (agent: unknown, name = 'x') => EvaluateInput.safeParse({ tasks: ['x'], agents: [{ name, agent }] }).error?.issues ?? [];
    assert.deepEqual(issues({ kind: 'llm', baseUrl: 'http://127.0.0.1:1/v1' }).map((i) => i.path.join('.')), ['agents.0.agent.model']);
    assert.match(issues({ kind: 'scripted' }, 'starter')[0]?.message ?? '', /the table's own row/);
  });
});

/** The LLM agent's reply at each history length: an action, a reply outside the format, an action that fails, the final answer. */
const LLM_SCRIPT = [
  'Thought: Look around.\nAction: List Files\nAction Input: {"dir_path": "."}',
  'I would rather chat than act.',
  'Thought: Look elsewhere.\nAction: List Files\nAction Input: {"dir_path": "no-such-dir"}',
  'Thought: Done.\nAction: Final Answer\nAction Input: {"final_answer": "Kept the starter."}',
];
const userPrompt = (r: SeenRequest) => (r.body.messages as { role: string; content: string }[]).find((m) => m.role === 'user')!.content;

describe('a real evaluation: Temporal, Docker, a real task, an LLM endpoint, and no model worker', () => {
  let stack: TestStack;
  let fake: FakeOpenAiServer;
  before(async () => {
    fake = await startFakeOpenAiServer();
    fake.handle((req) => ({ status: 200, body: chatReply(LLM_SCRIPT[Number(/History \((\d+) steps so far/.exec(userPrompt(req))?.[1] ?? 0)] ?? LLM_SCRIPT.at(-1)!) }));
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.stop();
    fake?.close();
  });

  test('one table: starter, scripted, scripted with ideas, an LLM agent, and a policy whose model worker is missing as an error row', { timeout: 900_000 }, async () => {
    const task = loadTask('nmes1988');
    const workflowId = `it-eval-${Date.now()}`;
    const input: EvaluateInput = {
      tasks: [task.name],
      agents: [
        { name: 'scripted', agent: { kind: 'scripted' } },
        { name: 'scripted+ideas', agent: { kind: 'scripted' }, ideas: { perTask: 3, min: 1, max: 1 } },
        { name: 'llm', agent: { kind: 'llm', baseUrl: fake.baseUrl, model: 'fake-m' } },
        // No model worker polls in this test: the decision must fail within 5 s, not run into the 30-minute limit.
        { name: 'policy', agent: { kind: 'policy', checkpoint: { sha256: '0'.repeat(64), size: 1, kind: 'checkpoint' } } },
      ],
      k: 1,
      concurrency: 4,
      seed: 1,
      limits: { maxSteps: 15, maxMinutes: 30, modelWorkerLostAfterSec: 5 },
    };
    const handle = await stack.env.client.workflow.start('evaluate', { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [input] });
    const result = (await handle.result().catch((err: unknown) => assert.fail(`evaluation failed: ${failureMessage(err)}`))) as EvaluateResult;
    const row = (agent: string) => result.scores.find((s) => s.agent === agent)!;
    assert.deepEqual(result.scores.map((s) => s.agent), ['starter', 'scripted', 'scripted+ideas', 'llm', 'policy']);

    assert.deepEqual([row('starter').source, row('starter').avgAtK, row('starter').relativeGain], ['starter', task.m_init, 0]);
    // The idea-less scripted expert leaves the starter as it is: the measurement reproduces m_init exactly.
    const scripted = row('scripted');
    assert.ok(scripted.avgAtK !== null && Math.abs(scripted.avgAtK - task.m_init) < 1e-9, `${scripted.avgAtK}`);
    assert.deepEqual([scripted.failed, scripted.validActionRate, scripted.validSubmissionRate], [0, 1, 1]);

    const withIdeas = row('scripted+ideas');
    assert.deepEqual([withIdeas.failed, withIdeas.validActionRate, withIdeas.validSubmissionRate], [0, 1, 1], JSON.stringify(withIdeas));
    assert.ok(close(withIdeas.relativeGain, relativeGain({ metric: withIdeas.avgAtK!, mInit: task.m_init, higherIsBetter: false })));
    const summary = (await stack.env.client.workflow.getHandle(`${workflowId}/scripted+ideas/${task.name}/0`).result()) as EpisodeSummary;
    const steps = (await new ArtifactStore().get(summary.trajectory)).toString().trim().split('\n').map((l) => JSON.parse(l) as { seedIdeas: unknown[]; action: { name: string } | null });
    assert.equal(steps[0]!.seedIdeas.length, 1);
    assert.ok(steps.some((s) => s.action?.name === 'Edit Script'), 'the reference tried its idea');

    const llm = row('llm');
    assert.deepEqual([llm.failed, llm.avgAtK, llm.validSubmissionRate], [0, task.m_init, 1]);
    assert.ok(close(llm.validActionRate, 3 / 4), `${llm.validActionRate}`);
    assert.ok(close(llm.actionsWithoutErrorRate, 2 / 4), `${llm.actionsWithoutErrorRate}`);
    assert.ok(fake.seen.length >= 4 && fake.seen.every((r) => r.body.model === 'fake-m' && r.auth === undefined));

    const policy = row('policy');
    assert.deepEqual([policy.failed, policy.avgAtK, policy.relativeGain], [1, null, null]);
    assert.match(policy.errors[0]!, /policy\/nmes1988\/0: no model worker picked up the policy's decision within 5 s: .*mlagent-model/);
    assert.equal(result.agents.policy!.meanRelativeGain, null);
    assert.equal(result.agents.policy!.failedEpisodes, 1);
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
});
