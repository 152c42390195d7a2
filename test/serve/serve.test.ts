/**
 * `mlagent serve`'s HTTP API on a tiny random policy with a ChatML template, in this process: what it answers is
 * checked against `generate` on the same checkpoint (same prompt rendering, seed and sampling), through the
 * project's own LLM client and through raw HTTP for streaming and errors.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ArtifactStore } from '../../activities/artifact-store';
import { LlmClient } from '../../activities/llm/client';
import { initBackend } from '../../model/backend';
import { ChatTemplate } from '../../model/chat-template';
import { modelFromFiles, type CheckpointFiles } from '../../model/checkpoint';
import { generate, type GenerateOptions } from '../../model/generate';
import { LoraAdapters } from '../../model/lora';
import { resolveCheckpoint } from '../../model/resolve-checkpoint';
import { loadServedPolicy, type ServedPolicy } from '../../model/serve/served-policy';
import { startPolicyServer, type PolicyServer } from '../../model/serve/server';
import { saveTinyPolicy, startServeCli } from './tiny-policy';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-serve-'));
const savedHome = process.env.MLAGENT_HOME;
process.env.MLAGENT_HOME = home;

const MESSAGES = [{ role: 'system' as const, content: 'You are terse.' }, { role: 'user' as const, content: 'List the files of the workspace.' }];

let files: CheckpointFiles;
let policy: ServedPolicy;
let server: PolicyServer;
const serverLog: string[] = [];
before(async () => {
  await initBackend();
  ({ files } = await saveTinyPolicy({ name: 'tiny' }));
  policy = await loadServedPolicy(new ArtifactStore(), await resolveCheckpoint(new ArtifactStore(), 'tiny'));
  server = await startPolicyServer({ policy, host: '127.0.0.1', port: 0, log: (l) => serverLog.push(l) });
});
after(async () => {
  await server?.close();
  policy?.model.dispose();
  if (savedHome === undefined) delete process.env.MLAGENT_HOME;
  else process.env.MLAGENT_HOME = savedHome;
  fs.rmSync(home, { recursive: true, force: true });
});

const client = () => new LlmClient({ baseUrl: server.baseUrl, model: 'tiny', timeoutMs: 30_000 });
const post = (body: unknown, route = '/chat/completions') =>
  fetch(`${server.baseUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** What the checkpoint generates for MESSAGES, rendered with its own template, outside the server. */
function reference(files: CheckpointFiles, options: GenerateOptions): { text: string; promptTokens: number; tokens: number } {
  const { model, tokenizer } = modelFromFiles(files);
  try {
    if (files.has('adapter_config.json')) LoraAdapters.fromFiles(model, files).mergeInto(model);
    const prompt = ChatTemplate.fromCheckpoint(files)!.render(MESSAGES, { addGenerationPrompt: true });
    assert.ok(prompt.startsWith('<|im_start|>system\nYou are terse.<|im_end|>'), 'the template is the checkpoint\'s');
    const [g] = generate(model, tokenizer, [prompt], { stopAtActionInput: false, ...options });
    return { text: g!.text, promptTokens: tokenizer.encode(prompt).length, tokens: g!.tokens.length };
  } finally {
    model.dispose();
  }
}

/** The SSE events of a streamed completion, `[DONE]` last. */
async function streamEvents(body: unknown): Promise<{ chunks: Record<string, any>[]; done: boolean }> {
  const res = await post(body);
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const data = (await res.text()).split('\n\n').filter(Boolean).map((e) => { assert.match(e, /^data: /); return e.slice(6); });
  return { chunks: data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Record<string, any>), done: data.at(-1) === '[DONE]' };
}

test('GET /v1/models lists the served policy under its registered name', async () => {
  const res = await fetch(`${server.baseUrl}/models`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { object: string; data: { id: string; object: string }[] };
  assert.equal(body.object, 'list');
  assert.deepEqual(body.data.map((m) => [m.id, m.object]), [['tiny', 'model']]);
  assert.equal((await fetch(`${server.baseUrl}/models/tiny`)).status, 200);
});

test('the project\'s LLM client gets the completion generate() gives for the template-rendered prompt, with usage', async () => {
  const want = reference(files, { temperature: 0.8, topP: 0.9, seed: 42, maxNewTokens: 12 });
  const res = await fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'tiny', messages: MESSAGES, temperature: 0.8, top_p: 0.9, seed: 42, max_tokens: 12 }) });
  const body = (await res.json()) as { choices: { message: { content: string }; finish_reason: string }[]; usage: { prompt_tokens: number; completion_tokens: number } };
  assert.equal(body.choices[0]!.message.content, want.text);
  assert.deepEqual(body.usage, { prompt_tokens: want.promptTokens, completion_tokens: want.tokens, total_tokens: want.promptTokens + want.tokens });

  const r = await client().chat({ messages: MESSAGES, temperature: 0.8, maxTokens: 12, seed: 7 });
  assert.equal(r.content, reference(files, { temperature: 0.8, seed: 7, maxNewTokens: 12 }).text);
  assert.equal(r.usage.model, 'tiny');
  assert.equal(r.usage.promptTokens, want.promptTokens);
  assert.ok(r.usage.completionTokens >= 1 && r.usage.completionTokens <= 12);
  assert.equal(r.finishReason, r.usage.completionTokens === 12 ? 'length' : 'stop');

  // fields sent as null (clients that serialise every field) count as absent
  const nulls = await post({ model: 'tiny', messages: MESSAGES, temperature: 0.8, top_p: 0.9, seed: 42, max_tokens: 12, stop: null, n: null, stream: null, stream_options: null });
  assert.equal(((await nulls.json()) as typeof body).choices[0]!.message.content, want.text);
});

test('streaming: SSE chunks add up to the non-streamed answer; finish chunk, usage chunk, [DONE]', async () => {
  const req = { model: 'tiny', messages: MESSAGES, temperature: 1, seed: 5, max_tokens: 20 };
  const whole = (await (await post(req)).json()) as { choices: { message: { content: string }; finish_reason: string }[]; usage: unknown };
  const { chunks, done } = await streamEvents({ ...req, stream: true, stream_options: { include_usage: true } });
  assert.ok(done, 'the stream ends with [DONE]');
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'tiny' && c.id === chunks[0]!.id));
  assert.deepEqual(chunks[0]!.choices[0].delta, { role: 'assistant', content: '' });
  const text = chunks.flatMap((c) => c.choices.map((ch: any) => ch.delta.content ?? '')).join('');
  assert.equal(text, whole.choices[0]!.message.content);
  assert.ok(chunks.length >= 4, `content arrives in pieces (${chunks.length} chunks)`);
  const finish = chunks.at(-2)!;
  assert.equal(finish.choices[0].finish_reason, whole.choices[0]!.finish_reason);
  assert.deepEqual(chunks.at(-1)!.choices, []);
  assert.deepEqual(chunks.at(-1)!.usage, whole.usage);
});

test('stop sequences cut the answer before the first one, streamed or not', async () => {
  const req = { model: 'tiny', messages: MESSAGES, temperature: 0, max_tokens: 30 };
  const full = ((await (await post(req)).json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
  assert.ok(full.length >= 12, `greedy answer long enough to cut: ${JSON.stringify(full)}`);
  const stop = full.slice(6, 9);
  const before = full.slice(0, full.indexOf(stop));
  const cut = (await (await post({ ...req, stop: [stop, 'never-appears'] })).json()) as { choices: { message: { content: string }; finish_reason: string }[] };
  assert.equal(cut.choices[0]!.message.content, before);
  assert.equal(cut.choices[0]!.finish_reason, 'stop');
  const { chunks } = await streamEvents({ ...req, stop, stream: true });
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), before);
  assert.equal(chunks.at(-1)!.choices[0].finish_reason, 'stop');
});

describe('bad requests get OpenAI-style errors', () => {
  const cases: [string, () => Promise<Response>, number, { param?: string | null; code?: string | null; message: RegExp }][] = [
    ['missing messages', () => post({ model: 'tiny' }), 400, { param: 'messages', message: /messages is required/ }],
    ['empty messages', () => post({ model: 'tiny', messages: [] }), 400, { param: 'messages', message: /must not be empty/ }],
    ['a bad role', () => post({ model: 'tiny', messages: [{ role: 'robot', content: 'x' }] }), 400, { param: 'messages.0.role', message: /messages\.0\.role/ }],
    ['unknown model', () => post({ model: 'gpt-9', messages: MESSAGES }), 404, { param: 'model', code: 'model_not_found', message: /gpt-9.*does not exist/ }],
    ['temperature above 2', () => post({ model: 'tiny', messages: MESSAGES, temperature: 3 }), 400, { param: 'temperature', message: /temperature/ }],
    ['top_p of 0', () => post({ model: 'tiny', messages: MESSAGES, top_p: 0 }), 400, { param: 'top_p', message: /top_p/ }],
    ['five stop sequences', () => post({ model: 'tiny', messages: MESSAGES, stop: ['a', 'b', 'c', 'd', 'e'] }), 400, { param: 'stop', message: /stop/ }],
    ['n = 2', () => post({ model: 'tiny', messages: MESSAGES, n: 2 }), 400, { param: 'n', message: /only n = 1/ }],
    ['a body that is not JSON', () => post('{"model": "tiny",'), 400, { param: null, code: 'invalid_json', message: /not valid JSON/ }],
    ['too long a prompt', () => post({ model: 'tiny', messages: [{ role: 'user', content: 'word '.repeat(400) }] }), 400, { param: 'messages', code: 'context_length_exceeded', message: /maximum context length is 256 tokens/ }],
    ['max_tokens beyond the context', () => post({ model: 'tiny', messages: MESSAGES, max_tokens: 1000 }), 400, { code: 'context_length_exceeded', message: /1000 in the completion/ }],
    ['an unknown route', () => fetch(`${server.baseUrl}/completions`, { method: 'POST', body: '{}' }), 404, { code: 'not_found', message: /Invalid URL \(POST \/v1\/completions\)/ }],
    ['GET on chat completions', () => fetch(`${server.baseUrl}/chat/completions`), 405, { code: 'method_not_allowed', message: /takes POST/ }],
  ];
  for (const [name, send, status, want] of cases)
    test(name, async () => {
      const res = await send();
      assert.equal(res.status, status);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const { error } = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } };
      assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, want.message);
      if (want.param !== undefined) assert.equal(error.param, want.param);
      if (want.code !== undefined) assert.equal(error.code, want.code);
    });

  test('the LLM client treats a rejected request as non-retryable', async () => {
    const wrongModel = new LlmClient({ baseUrl: server.baseUrl, model: 'other', timeoutMs: 10_000 });
    await assert.rejects(wrongModel.chat({ messages: MESSAGES }), (err: unknown) =>
      err instanceof ApplicationFailure && err.nonRetryable && err.type === 'LlmRequestRejected' && /HTTP 404.*model_not_found/.test(err.message));
  });
});

test('one completion at a time: a request sent while another streams is answered after it ends', async () => {
  const res = await post({ model: 'tiny', messages: MESSAGES, temperature: 1, seed: 1, max_tokens: 60, stream: true });
  const reader = res.body!.getReader();
  const order: string[] = [];
  await reader.read(); // the first chunk: the long one is generating
  const short = post({ model: 'tiny', messages: MESSAGES, max_tokens: 1 }).then(async (r) => { order.push(`short ${r.status}`); await r.text(); });
  let text = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += Buffer.from(r.value).toString('utf8');
  order.push(text.trimEnd().endsWith('data: [DONE]') ? 'long done' : 'long cut');
  await short;
  assert.deepEqual(order, ['long done', 'short 200']);
});

test('a client that disconnects mid-stream stops its generation; the next request is served', async () => {
  const req = { model: 'tiny', messages: MESSAGES, temperature: 1, seed: 2, max_tokens: 200 };
  const whole = (await (await post(req)).json()) as { choices: { finish_reason: string }[] };
  assert.equal(whole.choices[0]!.finish_reason, 'length', 'this seed runs the full 200 tokens when nobody leaves');
  const leave = new AbortController();
  const res = await fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', body: JSON.stringify({ ...req, stream: true }), signal: leave.signal });
  await res.body!.getReader().read();
  leave.abort();
  const next = await client().chat({ messages: MESSAGES, maxTokens: 2 });
  assert.ok(next.usage.completionTokens >= 1);
  const gone = serverLog.map((l) => /client closed the connection after (\d+) generated tokens/.exec(l)).find(Boolean);
  assert.ok(gone, `the server logged the disconnect:\n${serverLog.join('\n')}`);
  assert.ok(Number(gone[1]) < 200, `stopped after ${gone[1]} of 200 tokens`);
});

test('a LoRA checkpoint is served with its adapters merged into the weights', async () => {
  const { ref, files: loraFiles } = await saveTinyPolicy({ name: 'tiny-lora', lora: true });
  const store = new ArtifactStore();
  const served = await resolveCheckpoint(store, ref.sha256.slice(0, 12));
  assert.deepEqual(served, { id: `checkpoint-${ref.sha256.slice(0, 12)}`, ref });
  const lora = await loadServedPolicy(store, served);
  const s = await startPolicyServer({ policy: lora, host: '127.0.0.1', port: 0 });
  try {
    assert.ok(lora.mergedLora);
    const r = await new LlmClient({ baseUrl: s.baseUrl, model: served.id, timeoutMs: 30_000 }).chat({ messages: MESSAGES, temperature: 0, maxTokens: 16 });
    const merged = reference(loraFiles, { temperature: 0, maxNewTokens: 16 });
    assert.equal(r.content, merged.text);
    const withoutAdapters = new Map([...loraFiles].filter(([n]) => !n.startsWith('adapter_')));
    assert.notEqual(r.content, reference(withoutAdapters, { temperature: 0, maxNewTokens: 16 }).text, 'the adapters change the answer');
  } finally {
    await s.close();
    lora.model.dispose();
  }
});

test('CHECKPOINT resolves a name, a sha256 or its prefix, or a JSON ref; unknown ones fail saying what to do', async () => {
  const store = new ArtifactStore();
  const { checkpoint } = JSON.parse(fs.readFileSync(path.join(home, 'models/tiny.json'), 'utf8')) as { checkpoint: { sha256: string; size: number; kind: string } };
  assert.deepEqual(await resolveCheckpoint(store, 'tiny'), { id: 'tiny', ref: checkpoint });
  assert.deepEqual((await resolveCheckpoint(store, checkpoint.sha256)).ref, checkpoint);
  assert.deepEqual(await resolveCheckpoint(store, JSON.stringify(checkpoint)), { id: `checkpoint-${checkpoint.sha256.slice(0, 12)}`, ref: checkpoint });
  await assert.rejects(resolveCheckpoint(store, 'nope'), /no imported model of that name.*mlagent model list/);
  await assert.rejects(resolveCheckpoint(store, undefined), /smollm2-135m-instruct.*make setup/);
  await assert.rejects(resolveCheckpoint(store, 'deadbeefdeadbeef'), /no artifact with that sha256/);
});

test('`mlagent serve NAME --port 0` serves until SIGTERM, then exits 0', { timeout: 120_000 }, async () => {
  const cli = await startServeCli({ args: ['tiny'], env: { MLAGENT_HOME: home } });
  try {
    assert.equal(cli.id, 'tiny');
    const r = await new LlmClient({ baseUrl: cli.baseUrl, model: 'tiny', timeoutMs: 30_000 }).chat({ messages: MESSAGES, maxTokens: 4, seed: 42, temperature: 0.8 });
    assert.equal(r.content, reference(files, { temperature: 0.8, seed: 42, maxNewTokens: 4 }).text);
    assert.ok(cli.output.some((l) => /\[serve\] tiny: checkpoint \w{12}, 2 layers, context 256, its chat template/.test(l)), cli.output.join('\n'));
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});
