import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../model/backend';
import { ModelConfig } from '../../model/config';
import { generate } from '../../model/generate';
import { Qwen2Model } from '../../model/qwen2';
import { Tokenizer } from '../../model/tokenizer';

before(async () => { await initBackend(); });

// a tokenizer of its own (not the repository corpus, which changes with every edit), so the prompt's ids are fixed
const TEXT = 'Thought: the validation accuracy is 0.81; try a larger learning rate and more epochs.\nAction: Edit Script\nAction Input: {"script_name": "train.py"}\n';
const tokenizer = Tokenizer.train({ texts: [TEXT.repeat(4)], vocabSize: 300 });
const PROMPTS = [TEXT.repeat(4), TEXT]; // 348 and 87 tokens: left padding in the batch

/** A random model whose projections are scaled up, so greedy decoding is not one repeated token. */
function model(layers: number): Qwen2Model {
  const config: ModelConfig = { vocab_size: tokenizer.vocabSize, hidden_size: 64, intermediate_size: 96, num_hidden_layers: layers, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 512, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false };
  const m = Qwen2Model.init(config, 7);
  for (const [n, v] of m.params) if (n.includes('embed') || n.includes('lm_head') || n.includes('proj')) v.assign(v.mul(12));
  return m;
}

async function run(layers: number) {
  const m = model(layers);
  let out: ReturnType<typeof generate> = [];
  const { peakBytes } = await tf.profile(() => { out = generate(m, tokenizer, PROMPTS, { maxNewTokens: 12, temperature: 0, stopAtActionInput: false, ignoreEos: true }); });
  m.dispose();
  return { out, peakBytes };
}

test('greedy generation gives the tokens recorded before the per-layer prefill tidy (same maths, less memory)', async () => {
  assert.equal(tokenizer.encode(PROMPTS[0]).length, 348);
  const { out } = await run(8);
  // recorded with the code of commit 94d3ac3 (before the change)
  assert.deepEqual(out.map((g) => g.tokens), [[203, 271, 262, 170, 123, 121, 138, 2, 7, 97, 150, 173], [182, 31, 252, 70, 64, 59, 21, 121, 182, 263, 185, 14]]);
  const recorded = [-1.97711515491461, -1.589448771009559, -2.4832612173972906, -1.7992228235199703, -2.412006216281254, -3.152378786005141];
  recorded.forEach((lp, i) => assert.ok(Math.abs(out[0].logprobs[i] - lp) < 1e-4, `token ${i}: log p ${out[0].logprobs[i]} vs recorded ${lp}`));
});

test('prefill memory does not grow with depth: one layer\'s attention scores live at a time', async () => {
  const shallow = await run(2), deep = await run(8);
  // keeping every layer's scores until the pass ends made 8 layers 3.9× the peak of 2 (129 vs 33 MB); now 1.2×
  assert.ok(deep.peakBytes < 1.5 * shallow.peakBytes, `peak tensor bytes: ${deep.peakBytes} with 8 layers vs ${shallow.peakBytes} with 2`);
});
