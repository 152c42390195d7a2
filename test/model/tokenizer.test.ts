import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tokenizer } from '../../model/tokenizer';
import { repoCorpus } from './fixtures';

test('byte-level BPE trained on the repo corpus round-trips any text and compresses it', () => {
  const corpus = repoCorpus();
  const t0 = Date.now();
  const tok = Tokenizer.train({ texts: corpus, vocabSize: 2048 });
  console.log(`trained a ${tok.vocabSize}-token BPE on ${corpus.join('').length} chars in ${Date.now() - t0} ms`);
  const samples = [corpus[0].slice(0, 2000), 'Action Input: {"script_name": "train.py", "edits": [{"old": "lr=0.1", "new": "lr=0.01"}]}', 'ünïcödé ✓ 中文 🙂\n\t tabs', '<|im_start|>user\nhi<|im_end|>'];
  for (const s of samples) assert.equal(tok.decode(tok.encode(s)), s.normalize('NFC'));
  const text = corpus.join('\n');
  const ratio = Buffer.byteLength(text) / tok.encode(text).length;
  assert.ok(ratio > 2.5, `only ${ratio.toFixed(2)} bytes per token`);
  assert.deepEqual(tok.encode('<|im_end|>'), [tok.tokenId('<|im_end|>')]);
  // saved as Hugging Face tokenizer.json and loaded back identically
  const again = Tokenizer.fromJson(JSON.parse(JSON.stringify(tok.json)));
  assert.deepEqual(again.encode(samples[1]), tok.encode(samples[1]));
});

test('a Qwen2-style tokenizer.json (Split regex with (?i:…), merges as pairs) loads', () => {
  const base = Tokenizer.train({ texts: ["it's a test, it's fine 123"], vocabSize: 270 }).json;
  const qwenLike = { ...base, model: { ...base.model, merges: base.model.merges.map((m) => (typeof m === 'string' ? m.split(' ') : m)) } };
  const tok = Tokenizer.fromJson(qwenLike);
  assert.equal(tok.decode(tok.encode("IT'S 42")), "IT'S 42");
  assert.throws(() => Tokenizer.fromJson({ ...base, model: { type: 'WordPiece' } }), /model\.type/);
});
