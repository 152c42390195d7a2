import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../model/backend';
import { continuationLogProbs, generate } from '../../model/generate';
import { Qwen2Model } from '../../model/qwen2';
import { actionInputEnd } from '../../model/stop';
import { tinyConfig, tinyTokenizer } from './fixtures';

before(async () => { await initBackend(); });

test('KV-cached generation equals uncached; batching (left padding) does not change a row', () => {
  const tok = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tok.vocabSize }), 3);
  const prompts = ['Thought: list the files', 'Observation: train.py reached 0.81 accuracy on the validation split'];
  const opts = { maxNewTokens: 20, temperature: 0, stopAtActionInput: false };
  const cached = generate(model, tok, prompts, opts);
  const uncached = generate(model, tok, prompts, { ...opts, useCache: false });
  assert.deepEqual(cached.map((g) => g.tokens), uncached.map((g) => g.tokens));
  cached.forEach((g, i) => g.logprobs.forEach((lp, j) => assert.ok(Math.abs(lp - uncached[i].logprobs[j]) < 1e-4)));
  const alone = generate(model, tok, [prompts[0]], opts)[0];
  assert.deepEqual(alone.tokens, cached[0].tokens);
  // log-probs of a given continuation match those recorded while generating it
  const scored = continuationLogProbs(model, prompts.map((p, i) => ({ prompt: tok.encode(p), continuation: cached[i].tokens })));
  scored.forEach((row, i) => {
    assert.equal(row.length, cached[i].logprobs.length);
    row.forEach((lp, j) => assert.ok(Math.abs(lp - cached[i].logprobs[j]) < 1e-3, `row ${i} token ${j}: ${lp} vs ${cached[i].logprobs[j]}`));
  });
  // sampling with temperature / top-p is reproducible by seed and stays in the vocabulary
  const s1 = generate(model, tok, prompts, { maxNewTokens: 10, temperature: 0.8, topP: 0.9, seed: 5, stopAtActionInput: false });
  const s2 = generate(model, tok, prompts, { maxNewTokens: 10, temperature: 0.8, topP: 0.9, seed: 5, stopAtActionInput: false });
  assert.deepEqual(s1, s2);
  model.dispose();
});

test('a response ends right after its Action Input JSON object', () => {
  assert.equal(actionInputEnd('Thought: x\nAction: List Files\nAction Input: {"dir_path": "."'), undefined);
  const t = 'Thought: x\nAction: Edit Script\nAction Input: {"script_name": "a.py", "edits": [{"old": "}", "new": "{\\"a\\": 1}"}]}\nObservation: junk';
  assert.equal(t.slice(0, actionInputEnd(t)), t.slice(0, t.indexOf('\nObservation')));
});
