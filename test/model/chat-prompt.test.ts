import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifact-store';
import { renderStatePrompt } from '../../activities/model/policy-act';
import { parseResponse } from '../../core/parse-response';
import { ChatMessage, promptMessages, promptState } from '../../core/prompt';
import { initBackend } from '../../model/backend';
import { PromptRenderer } from '../../model/chat-prompt';
import { ChatTemplate } from '../../model/chat-template';
import { CheckpointFiles, checkpointFiles, getCheckpoint, modelFromFiles } from '../../model/checkpoint';
import { generate } from '../../model/generate';
import { loadModelRecord } from '../../model/model-registry';
import { Qwen2Model } from '../../model/qwen2';
import { packExamples, parseSftJsonl, tokenizeExample } from '../../model/sft-data';
import { DEFAULT_BASE_MODEL } from '../../model/sft-params';
import { Tokenizer } from '../../model/tokenizer';
import { FIXTURE_RESPONSE, FIXTURE_STATE, fixtureMessages } from '../../model/reference/state-prompt';
import { REPO, tinyConfig, tinyTokenizer } from './fixtures';

/** transformers' apply_chat_template of the fixture state's messages (model/reference/record-golden.sh). */
const StatePromptGolden = z.object({
  state_prompt: z.object({ messages: z.array(ChatMessage), prompt: z.string(), prompt_ids: z.array(z.number()), conversation: z.string() }),
});
const golden = StatePromptGolden.parse(JSON.parse(fs.readFileSync(path.join(REPO, 'test/model/golden/smollm2-135m-instruct.json'), 'utf8'))).state_prompt;

let files: CheckpointFiles;
let tokenizer: Tokenizer;
let renderer: PromptRenderer;

before(async () => {
  const record = await loadModelRecord(DEFAULT_BASE_MODEL);
  if (!record) throw new Error(`${DEFAULT_BASE_MODEL} is not imported: run \`make setup\``);
  files = await getCheckpoint(new ArtifactStore(), record.checkpoint);
  const eos = (JSON.parse(files.get('config.json')!.toString('utf8')) as { eos_token_id: number }).eos_token_id;
  tokenizer = Tokenizer.fromJson(JSON.parse(files.get('tokenizer.json')!.toString('utf8')), 'tokenizer.json', eos);
  renderer = PromptRenderer.forCheckpoint(files, tokenizer, DEFAULT_BASE_MODEL);
}, { timeout: 120_000 });

test('a state\'s prompt renders, and tokenizes, exactly like transformers\' apply_chat_template', { timeout: 30_000 }, () => {
  assert.deepEqual(fixtureMessages(), golden.messages, 'the prompt builder still makes the recorded messages (re-record with record-golden.sh --tokenizer-only after a prompt change)');
  const prompt = promptMessages(FIXTURE_STATE);
  assert.ok(renderer.template, 'the imported checkpoint carries its chat template');
  assert.equal(renderer.prompt(prompt), golden.prompt);
  assert.deepEqual(tokenizer.encode(renderer.prompt(prompt)), golden.prompt_ids);
  assert.equal(renderer.template.render(golden.messages, { addGenerationPrompt: false }), golden.conversation);
});

test('SFT loss covers exactly the assistant turn: the response and <|im_end|>, nothing of the prompt', { timeout: 30_000 }, () => {
  const line = JSON.stringify({ messages: fixtureMessages(), state: FIXTURE_STATE, task: 'co2', episodeId: 'e', step: 4 });
  const [example] = parseSftJsonl(line + '\n');
  const t = tokenizeExample({ renderer, tokenizer, example, seqLen: 2048, source: 'fixture' });
  const n = golden.prompt_ids.length;
  assert.deepEqual(t.ids.slice(0, n), golden.prompt_ids, 'the prompt is transformers\' rendering, whole (it fits)');
  assert.ok(t.train.slice(0, n).every((x) => !x), 'no prompt token is trained');
  assert.ok(t.train.slice(n).every((x) => x), 'every assistant token is trained');
  const trained = t.ids.slice(n);
  assert.equal(tokenizer.decode(trained), `${FIXTURE_RESPONSE}<|im_end|>`);
  // The conversation as transformers renders it = our prompt + the trained tokens + the template's trailing newline.
  assert.equal(tokenizer.decode(t.ids) + '\n', golden.conversation);
  // Packed: the weighted targets are exactly the assistant tokens, in order.
  const [row] = packExamples([t], 2048);
  assert.deepEqual(row.targets.filter((_, i) => row.weights[i] === 1), trained);
});

test('an SFT example over seqLen keeps its fixed parts and response whole and shortens its observations', { timeout: 60_000 }, () => {
  const longObs = Array.from({ length: 600 }, (_, i) => `${i},1958,3,${(315 + i / 10).toFixed(2)}`).join('\n');
  const state = promptState({ ...FIXTURE_STATE, history: FIXTURE_STATE.history.map((h) => ({ ...h, observation: h.observation + '\n' + longObs })) });
  const [example] = parseSftJsonl(JSON.stringify({ messages: [...promptMessages(state), { role: 'assistant', content: FIXTURE_RESPONSE }], state }));
  const seqLen = 1024;
  const t = tokenizeExample({ renderer, tokenizer, example, seqLen, source: 'long' });
  assert.ok(t.ids.length <= seqLen + 1, `${t.ids.length} tokens`);
  const text = tokenizer.decode(t.ids);
  assert.ok(text.includes(FIXTURE_STATE.researchProblem) && text.includes('Try gradient boosting with 300 trees'));
  assert.ok(text.endsWith(`${FIXTURE_RESPONSE}<|im_end|>`));
  assert.match(text, /characters omitted/);
  // Without a state the messages must fit as they are: an error, never a cut.
  const [bare] = parseSftJsonl(JSON.stringify({ messages: [...promptMessages(state), { role: 'assistant', content: FIXTURE_RESPONSE }] }));
  assert.throws(() => tokenizeExample({ renderer, tokenizer, example: bare, seqLen, source: 'line 7' }), /line 7: \d+ prompt \+ \d+ response tokens exceed seqLen 1024/);
});

test('a checkpoint without a template gets the plain rendering; old prompt/response lines still train', { timeout: 30_000 }, () => {
  const tiny = tinyTokenizer();
  const plain = new PromptRenderer(tiny);
  const [old] = parseSftJsonl('{"prompt":"Research problem: x","response":"Thought: t\\nAction: List Files\\nAction Input: {}"}\n');
  assert.deepEqual(old.messages, [{ role: 'user', content: 'Research problem: x' }]);
  assert.equal(plain.prompt(old.messages), 'User:\nResearch problem: x\n\nAssistant:\n');
  const t = tokenizeExample({ renderer: plain, tokenizer: tiny, example: old, seqLen: 256, source: 'old' });
  const trained = t.ids.filter((_, i) => t.train[i]);
  assert.deepEqual(trained, [...tiny.encode(old.response), tiny.eosId]);
  assert.throws(() => parseSftJsonl('{"messages":[{"role":"user","content":"q"}]}'), /line 1: the last message must be a non-empty assistant message/);
});

test('a trained checkpoint keeps the base\'s tokenizer_config.json (chat template) and provenance.json', { timeout: 30_000 }, () => {
  const tiny = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tiny.vocabSize }), 1);
  try {
    const out = checkpointFiles(model, tiny, files);
    assert.deepEqual(out.get('tokenizer_config.json'), files.get('tokenizer_config.json'));
    assert.deepEqual(out.get('provenance.json'), files.get('provenance.json'));
    assert.ok(ChatTemplate.fromCheckpoint(out), 'its template renders prompts');
    assert.equal(checkpointFiles(model, tiny).has('tokenizer_config.json'), false, 'a fresh model has none');
  } finally {
    model.dispose();
  }
});

describeGreedy();

/** The imported model, not fine-tuned, acting greedily on a real state prompt: it runs; whether it parses is reported. */
function describeGreedy() {
  let model: Qwen2Model | undefined;
  after(() => model?.dispose());
  test('the imported SmolLM2 writes a greedy action for a real state prompt (validity reported, not asserted)', { timeout: 300_000 }, async () => {
    await initBackend();
    model = modelFromFiles(files, DEFAULT_BASE_MODEL).model;
    const prompt = renderStatePrompt({ model, renderer, state: FIXTURE_STATE, maxNewTokens: 40 });
    assert.equal(prompt, golden.prompt);
    const t0 = Date.now();
    const [g] = generate(model, tokenizer, [prompt], { temperature: 0, maxNewTokens: 40, decoding: 'free' });
    const parsed = parseResponse(g.text);
    console.log(`# SmolLM2 zero-shot greedy (${g.tokens.length} tokens, ${((Date.now() - t0) / 1000).toFixed(1)} s, stop ${g.stop}): ${JSON.stringify(g.text)} → ${parsed.ok ? `valid ${parsed.action.name}` : `invalid: ${parsed.error}`}`);
    assert.ok(g.tokens.length > 0 && g.tokens.length <= 40);
  });
}
