/**
 * Unit test of the LLM client's protocol handling: a tiny OpenAI-compatible HTTP server on 127.0.0.1,
 * started here, answers with canned but schema-real responses (no real model is involved).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { LlmClient, llmConfigFromEnv } from '../../activities/llm/client';
import { chatReply, type FakeOpenAiServer, startFakeOpenAiServer } from './fake-openai-server';

let fake: FakeOpenAiServer;
before(async () => {
  fake = await startFakeOpenAiServer();
});
after(() => fake.close());

const client = (timeoutMs = 5000) => new LlmClient({ baseUrl: fake.baseUrl, model: 'chat-m', embedModel: 'embed-m', apiKey: 'sk-test', timeoutMs });

test('chat: sends model, messages, options and the key; returns content and token usage', async () => {
  fake.handle(() => ({ status: 200, body: chatReply('Thought: ok') }));
  const r = await client().chat({ messages: [{ role: 'user', content: 'hi' }], temperature: 0.7, maxTokens: 64, seed: 3 });
  assert.equal(r.content, 'Thought: ok');
  assert.equal(r.finishReason, 'stop');
  assert.deepEqual(r.usage, { model: 'chat-m-2025', promptTokens: 12, completionTokens: 5, totalTokens: 17 });
  const last = fake.seen.at(-1)!;
  assert.equal(last.url, '/v1/chat/completions');
  assert.equal(last.auth, 'Bearer sk-test');
  assert.deepEqual(last.body, { model: 'chat-m', messages: [{ role: 'user', content: 'hi' }], temperature: 0.7, max_tokens: 64, seed: 3 });
});

test('embeddings: vectors come back in input order whatever order the server lists them', async () => {
  fake.handle(() => ({
    status: 200,
    body: {
      object: 'list',
      model: 'embed-m',
      data: [
        { object: 'embedding', index: 1, embedding: [0, 1] },
        { object: 'embedding', index: 0, embedding: [1, 0] },
      ],
      usage: { prompt_tokens: 4, total_tokens: 4 },
    },
  }));
  const r = await client().embed(['a', 'b']);
  assert.deepEqual(r.vectors, [[1, 0], [0, 1]]);
  assert.deepEqual(r.usage, { model: 'embed-m', promptTokens: 4, completionTokens: 0, totalTokens: 4 });
  assert.deepEqual(fake.seen.at(-1)!.body, { model: 'embed-m', input: ['a', 'b'] });
});

const isNonRetryable = (type: string) => (err: unknown) =>
  err instanceof ApplicationFailure && err.nonRetryable === true && err.type === type;

test('a server error or rate limit is retryable (left to the activity retry policy)', async () => {
  for (const status of [500, 503, 429]) {
    fake.handle(() => ({ status, body: { error: { message: 'busy' } } }));
    await assert.rejects(client().chat({ messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      assert.ok(!(err instanceof ApplicationFailure), `HTTP ${status} must not be a non-retryable failure`);
      assert.match((err as Error).message, new RegExp(`HTTP ${status}.*busy`));
      return true;
    });
  }
});

test('a rejected request (4xx) is non-retryable', async () => {
  fake.handle(() => ({ status: 401, body: { error: { message: 'bad key' } } }));
  await assert.rejects(client().chat({ messages: [{ role: 'user', content: 'x' }] }), isNonRetryable('LlmRequestRejected'));
});

test('responses outside the wire format are non-retryable protocol errors naming the problem', async () => {
  const { usage: _usage, ...noUsage } = chatReply('x');
  fake.handle(() => ({ status: 200, body: noUsage }));
  await assert.rejects(client().chat({ messages: [{ role: 'user', content: 'x' }] }), (err: unknown) =>
    isNonRetryable('LlmProtocolError')(err) && /usage/.test((err as Error).message));
  fake.handle(() => ({ status: 200, body: 'not json' }));
  await assert.rejects(client().chat({ messages: [{ role: 'user', content: 'x' }] }), /non-JSON/);
  fake.handle(() => ({ status: 200, body: { model: 'e', data: [{ index: 0, embedding: [1] }], usage: { prompt_tokens: 1, total_tokens: 1 } } }));
  await assert.rejects(client().embed(['a', 'b']), /1 vectors for 2 inputs/);
});

test('a request that times out is retryable', async () => {
  fake.handle(() => 'hang');
  await assert.rejects(client(200).chat({ messages: [{ role: 'user', content: 'x' }] }), (err: unknown) =>
    !(err instanceof ApplicationFailure) && /request failed/.test((err as Error).message));
});

test('configuration from the environment: offline when unset, clear errors when wrong', () => {
  assert.equal(llmConfigFromEnv({}), undefined);
  assert.deepEqual(llmConfigFromEnv({ MLAGENT_LLM_BASE_URL: 'http://h:1/v1', MLAGENT_LLM_MODEL: 'm' }), {
    baseUrl: 'http://h:1/v1', model: 'm', embedModel: undefined, apiKey: undefined, timeoutMs: 120_000,
  });
  assert.throws(() => llmConfigFromEnv({ MLAGENT_LLM_BASE_URL: 'not a url' }), /MLAGENT_LLM_BASE_URL must be an http/);
  assert.throws(() => llmConfigFromEnv({ MLAGENT_LLM_BASE_URL: 'http://h/v1', MLAGENT_LLM_TIMEOUT_MS: '-5' }), /MLAGENT_LLM_TIMEOUT_MS/);
});

test('a call needing a model that is not configured fails without a request', async () => {
  const count = fake.seen.length;
  const noModels = new LlmClient({ baseUrl: fake.baseUrl, timeoutMs: 1000 });
  await assert.rejects(noModels.embed(['a']), (err: unknown) => isNonRetryable('LlmNotConfigured')(err) && /MLAGENT_EMBED_MODEL/.test((err as Error).message));
  assert.equal(fake.seen.length, count);
});
