/**
 * The LLM expert agent end to end: a real Temporal dev server, the orchestrator and sandbox workers and
 * a real Docker workspace, with the chat model replaced by a tiny OpenAI-compatible HTTP server on
 * 127.0.0.1 answering a short scripted sequence. This tests the protocol and the wiring (prompt, retries,
 * invalid replies, token usage in the trajectory), not a model's decisions. One episode step runs against the
 * real `mlagent serve` of a tiny random policy instead.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { ArtifactStore } from '../../activities/artifact-store';
import { createOrchestratorActivities, type TaskInfo } from '../../activities/orchestrator-activities';
import { loadTask } from '../../activities/tasks/registry';
import type { EpisodeInput, StepRecord } from '../../core/episode-schema';
import { failureMessage } from '../../core/failure-message';
import type { LlmConfig } from '../../core/llm-schemas';
import { LlmClient } from '../../activities/llm/client';
import { SYSTEM_PROMPT, promptMessages, promptState } from '../../core/prompt';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { startTestStack, type TestStack } from '../helpers/stack';
import { saveTinyPolicy, startServeCli } from '../serve/tiny-policy';
import { chatReply, type FakeOpenAiServer, type SeenRequest, startFakeOpenAiServer } from './fake-openai-server';

const TASK = 'co2';
const IDEA = { id: 'idea-1', text: 'Add lagged CO2 values as features.' };
const AGENT_USAGE = { model: 'chat-m-2025', promptTokens: 12, completionTokens: 5, totalTokens: 17 };
const READER_USAGE = { model: 'chat-m-2025', promptTokens: 300, completionTokens: 20, totalTokens: 320 };

/** The agent's reply at each history length; index 1 is outside the response format. */
const SCRIPT = [
  'Thought: First see what the workspace holds.\nAction: List Files\nAction Input: {"dir_path": "."}',
  'I am not sure what to do next, maybe read something.',
  'Thought: Understand the starter.\nAction: Understand File\nAction Input: {"file_name": "train.py", "things_to_look_for": "the model used"}',
  'Thought: Read it whole.\nAction: Read File\nAction Input: {"file_name": "train.py"}',
  'Thought: Enough for this test.\nAction: Final Answer\nAction Input: {"final_answer": "Looked at the starter."}',
];

const messages = (r: SeenRequest) => r.body.messages as { role: string; content: string }[];
const isAgentCall = (r: SeenRequest) => messages(r)[0]!.content === SYSTEM_PROMPT;
const userPrompt = (r: SeenRequest) => messages(r).find((m) => m.role === 'user')!.content;

describe('the LLM expert agent', () => {
  let stack: TestStack;
  let fake: FakeOpenAiServer;
  const saved = { ...process.env };
  /** MLAGENT_HOME of the served tiny policy; positions enough for the whole agent prompt with its small vocabulary. */
  const tinyHome = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-served-'));
  before(async () => {
    process.env.MLAGENT_HOME = tinyHome;
    await saveTinyPolicy({ name: 'tiny', maxPositions: 8192 });
    if (saved.MLAGENT_HOME === undefined) delete process.env.MLAGENT_HOME;
    else process.env.MLAGENT_HOME = saved.MLAGENT_HOME;
    fake = await startFakeOpenAiServer();
    // The workers read the endpoint from the environment when they are created, as in production.
    Object.assign(process.env, { MLAGENT_LLM_BASE_URL: fake.baseUrl, MLAGENT_LLM_MODEL: 'chat-m', MLAGENT_LLM_TIMEOUT_MS: '10000' });
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.stop();
    fake?.close();
    fs.rmSync(tinyHome, { recursive: true, force: true });
    for (const k of ['MLAGENT_LLM_BASE_URL', 'MLAGENT_LLM_MODEL', 'MLAGENT_LLM_TIMEOUT_MS']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  test('an episode completes: invalid replies are recorded and scored 0, a 503 is retried, token usage is on every step', async () => {
    let agentCalls = 0;
    fake.handle((req) => {
      if (!isAgentCall(req)) return { status: 200, body: { ...chatReply('It fits a linear regression.'), usage: { prompt_tokens: 300, completion_tokens: 20, total_tokens: 320 } } };
      // The first call fails as an overloaded server would: the activity's retry must carry the episode on.
      if (agentCalls++ === 0) return { status: 503, body: { error: { message: 'overloaded' } } };
      const n = Number(/History \((\d+) steps so far/.exec(userPrompt(req))?.[1]);
      return { status: 200, body: chatReply(SCRIPT[n] ?? SCRIPT.at(-1)!) };
    });
    const handle = await stack.env.client.workflow.start('runEpisode', {
      taskQueue: ORCHESTRATOR_QUEUE,
      workflowId: `llm-agent-${Date.now()}`,
      args: [{ task: TASK, agent: { kind: 'llm' }, seedIdeas: [IDEA], seed: 5 } satisfies EpisodeInput],
    });
    const summary = await handle.result().catch((err: unknown) => assert.fail(`episode failed: ${failureMessage(err)}`));
    assert.equal(summary.endReason, 'final_answer');

    const steps = (await new ArtifactStore().get(summary.trajectory)).toString().trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
    assert.deepEqual(steps.map((s) => s.action?.name ?? null), ['List Files', null, 'Understand File', 'Read File', 'Final Answer']);
    assert.deepEqual(steps.map((s) => s.kind), ['non_edit', 'invalid', 'non_edit', 'non_edit', 'non_edit']);
    assert.equal(steps[1]!.reward, 0);
    assert.match(steps[1]!.observation, /^Invalid action: no "Action:" line/);
    assert.equal(steps[1]!.response, SCRIPT[1]);
    assert.match(steps[2]!.observation, /Answer:\nIt fits a linear regression\./);
    // Each step carries its LLM calls: the decision, plus the reader's call for Understand File.
    assert.deepEqual(steps.map((s) => s.usage), [[AGENT_USAGE], [AGENT_USAGE], [AGENT_USAGE, READER_USAGE], [AGENT_USAGE], [AGENT_USAGE]]);

    // The prompt is the shared MLAgentBench-style one: research problem, injected idea, feedback history.
    const agentRequests = fake.seen.filter(isAgentCall);
    assert.equal(agentRequests.length, 6, 'five decisions plus the retried one');
    const first = agentRequests[0]!;
    assert.equal(first.body.model, 'chat-m');
    assert.equal(first.body.temperature, 0.7);
    assert.ok(userPrompt(first).includes(loadTask(TASK).researchProblem), 'the research problem is in the prompt');
    assert.match(userPrompt(first), /Ideas to explore:\n1\. Add lagged CO2 values as features\./);
    assert.match(userPrompt(agentRequests[3]!), /Observation: Invalid action: no "Action:" line/);

    const events = (await handle.fetchHistory()).events ?? [];
    const decideIds = new Set(
      events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'decideAction').map((e) => String(e.eventId)),
    );
    const attempts = events
      .filter((e) => e.activityTaskStartedEventAttributes && decideIds.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    assert.deepEqual(attempts, [2, 1, 1, 1, 1], 'the 503 was retried by the activity retry policy');
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, await handle.fetchHistory(), handle.workflowId);
  });

  /** An orchestrator worker of its own, on its own queue, with its own LLM endpoint (the stack's one has the fake). */
  const orchestratorWorker = (taskQueue: string, llm: LlmConfig | null) =>
    Worker.create({
      connection: stack.env.nativeConnection,
      namespace: stack.namespace,
      taskQueue,
      workflowsPath: require.resolve('../../workflows'),
      activities: createOrchestratorActivities({ llm }),
    });

  test('an episode step against `mlagent serve`: the trajectory holds what the served policy answers to the agent prompt', async () => {
    const served = await startServeCli({ args: ['tiny'], env: { MLAGENT_HOME: tinyHome } });
    try {
      const llm = { baseUrl: served.baseUrl, model: served.id, timeoutMs: 60_000 };
      const taskQueue = `llm-served-${process.pid}`;
      const worker = await orchestratorWorker(taskQueue, llm);
      const handle = await stack.env.client.workflow.start('runEpisode', {
        taskQueue,
        workflowId: `llm-served-${Date.now()}`,
        args: [{ task: TASK, agent: { kind: 'llm', temperature: 0.7, maxTokens: 16 }, seedIdeas: [IDEA], seed: 9, limits: { maxSteps: 1 } }],
      });
      const summary = await worker.runUntil(handle.result()).catch((err: unknown) => assert.fail(`episode failed: ${failureMessage(err)}`));
      assert.equal(summary.endReason, 'max_steps');
      const steps = (await new ArtifactStore().get(summary.trajectory)).toString().trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
      assert.equal(steps.length, 1);
      // the same request straight to the server: the agent's messages, its temperature, its seed (episode seed + step)
      const direct = await new LlmClient(llm).chat({
        messages: promptMessages(promptState({ researchProblem: loadTask(TASK).researchProblem, seedIdeas: [IDEA], history: [] })),
        temperature: 0.7,
        maxTokens: 16,
        seed: 9,
      });
      assert.equal(steps[0]!.response, direct.content);
      assert.deepEqual(steps[0]!.usage, [direct.usage]);
      assert.equal(direct.usage.model, 'tiny');
      assert.ok(direct.usage.completionTokens >= 1 && direct.usage.completionTokens <= 16);
    } finally {
      assert.equal(await served.stop(), 0);
    }
  });

  test('without an endpoint an llm episode fails at once, non-retryably, saying what to set', async () => {
    // an orchestrator worker configured without an LLM
    const taskQueue = `llm-offline-${process.pid}`;
    const worker = await orchestratorWorker(taskQueue, null);
    const handle = await stack.env.client.workflow.start('runEpisode', {
      taskQueue,
      workflowId: `llm-offline-${Date.now()}`,
      args: [{ task: TASK, agent: { kind: 'llm' } } satisfies EpisodeInput],
    });
    const err = await worker.runUntil(handle.result().then(() => undefined, (e: unknown) => e));
    assert.ok(err instanceof WorkflowFailedError, `expected the workflow to fail, got ${String(err)}`);
    assert.match(failureMessage(err), /agent kind 'llm' needs an OpenAI-compatible chat endpoint: set MLAGENT_LLM_BASE_URL .* and MLAGENT_LLM_MODEL/);
    const events = (await handle.fetchHistory()).events ?? [];
    const started = events.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    assert.ok(started.every((a) => a === 1), 'nothing was retried');
  });
});

test('an endpoint without a chat model is not enough for the llm agent', async () => {
  const activities = createOrchestratorActivities({ llm: { baseUrl: 'http://127.0.0.1:9/v1', embedModel: 'embed-m', timeoutMs: 1000 } });
  const task: TaskInfo = { name: TASK, script: 'train.py', metricName: 'rmse', higherIsBetter: false, mInit: 1, mBest: 0.5, scriptTimeoutSec: 60, researchProblem: 'p' };
  await assert.rejects(
    activities.decideAction({ agent: { kind: 'llm', temperature: 0.7 }, task, step: 0, history: [], seedIdeas: [], seed: 0 }),
    (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable && err.type === 'LlmNotConfigured' && /MLAGENT_LLM_MODEL/.test(err.message),
  );
});
