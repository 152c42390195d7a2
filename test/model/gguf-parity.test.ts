import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../model/backend';
import { ChatTemplate } from '../../model/chat-template';
import { CheckpointFiles, modelFromFiles } from '../../model/checkpoint';
import { importGguf } from '../../model/gguf-import';
import { Tokenizer } from '../../model/tokenizer';
import { golden, shippedGguf } from './gguf-fixture';

/** The shipped GGUF imported in memory, checked against values recorded from transformers / gguf-py. */
let files: CheckpointFiles;

before(async () => {
  await initBackend();
  files = (await importGguf(shippedGguf())).files;
}, { timeout: 120_000 });

test('imported SmolLM2 logits match transformers LlamaForCausalLM on the same GGUF (max |Δ| ≤ 1e-3)', { timeout: 300_000 }, () => {
  const g = golden().logits;
  const { model } = modelFromFiles(files, 'smollm2');
  const T = g.ids.length;
  const last = tf.tidy(() => {
    const { hidden } = model.forward({ ids: [g.ids], segments: [Array(T).fill(1)], positions: [g.ids.map((_, i) => i)] });
    return model.logits(hidden.slice([0, T - 1, 0], [1, 1, -1])).reshape([-1]);
  });
  const logits = last.dataSync() as Float32Array;
  let maxDiff = 0;
  g.sampled.forEach((want, k) => { maxDiff = Math.max(maxDiff, Math.abs(logits[k * g.stride] - want)); });
  for (const [id, want] of g.top) maxDiff = Math.max(maxDiff, Math.abs(logits[id] - want));
  const argmax = logits.reduce((best, x, i) => (x > logits[best] ? i : best), 0);
  console.log(`# SmolLM2 vs transformers: max |Δlogit| ${maxDiff.toExponential(2)} over ${g.sampled.length + g.top.length} logits of a ${T}-token prompt; argmax ${argmax}`);
  assert.ok(maxDiff <= 1e-3, `max |Δlogit| ${maxDiff} > 1e-3`);
  assert.equal(argmax, g.top[0][0], 'same next token as transformers');
  last.dispose();
  model.dispose();
});

test('tokenizer ids equal transformers\' GGUF tokenizer on code, CSV, prose, unicode, chat markup and bytes without a token', { timeout: 60_000 }, () => {
  const tok = Tokenizer.fromJson(JSON.parse(files.get('tokenizer.json')!.toString('utf8')));
  const unk = tok.tokenId('<|endoftext|>');
  for (const { text, ids } of golden().tokenizer) {
    assert.deepEqual(tok.encode(text), ids, `ids of ${JSON.stringify(text.slice(0, 40))}`);
    // a byte the vocabulary lacks becomes the unk token: only such texts do not come back
    if (!ids.includes(unk)) assert.equal(tok.decode(ids), text, 'decoding gives the text back');
  }
  assert.ok(golden().tokenizer.some(({ ids }) => ids.includes(unk)), 'the corpus has bytes without a token');
  assert.deepEqual(tok.encode(golden().logits.prompt), golden().logits.ids);
});

test('without an unk token a byte the vocabulary lacks is dropped before merging, as tokenizers\' BPE does', { timeout: 60_000 }, () => {
  const json = JSON.parse(files.get('tokenizer.json')!.toString('utf8'));
  const tok = Tokenizer.fromJson({ ...json, model: { ...json.model, unk_token: null } });
  // ids from Hugging Face tokenizers 0.20.3 (Tokenizer.from_file on this tokenizer.json with unk_token null)
  assert.deepEqual(tok.encode('a\x1db'), [81, 82]);
  assert.deepEqual(tok.encode('.\x1d.'), [950]);
  assert.deepEqual(tok.encode('((\x04))'), [24, 5107]);
  assert.deepEqual(tok.encode('\x1d'), []);
});

test('the chat template renders like transformers\' apply_chat_template', { timeout: 30_000 }, () => {
  const g = golden().chat_template;
  const tpl = ChatTemplate.fromCheckpoint(files, 'smollm2');
  assert.ok(tpl, 'tokenizer_config.json carries the GGUF chat template');
  assert.equal(tpl.render(g.messages, { addGenerationPrompt: true }), g.with_system);
  assert.equal(tpl.render(g.messages.slice(1), { addGenerationPrompt: false }), g.default_system, 'the template inserts its default system prompt');
});
