import { z } from 'zod';
import { describeIssues } from '../core/zod-issues';
import { QWEN_SPLIT, TokenizerJson } from './tokenizer';

/**
 * GGUF tokenizer metadata (tokenizer.ggml.*) → a Hugging Face tokenizer.json for `Tokenizer`. Only byte-level
 * BPE ("gpt2" in GGUF) maps onto it; SentencePiece ("llama") vocabularies are rejected. The pre-tokenizer is not
 * stored in GGUF, only named (tokenizer.ggml.pre, llama.cpp's preset names), so each name maps to the
 * tokenizer.json pre-tokenizer of the model family it stands for.
 */

const GgufTokenizerMeta = z.object({
  'tokenizer.ggml.model': z.string(),
  'tokenizer.ggml.pre': z.string().default('default'),
  'tokenizer.ggml.tokens': z.array(z.string()).min(1),
  'tokenizer.ggml.token_type': z.array(z.number().int()).optional(),
  'tokenizer.ggml.merges': z.array(z.string()),
  'tokenizer.ggml.bos_token_id': z.number().int().nonnegative().optional(),
  'tokenizer.ggml.eos_token_id': z.number().int().nonnegative().optional(),
  'tokenizer.ggml.unknown_token_id': z.number().int().nonnegative().optional(),
  'tokenizer.ggml.add_bos_token': z.boolean().default(false),
  'tokenizer.chat_template': z.string().optional(),
});
export type GgufTokenizerMeta = z.output<typeof GgufTokenizerMeta>;

/** llama.cpp token types (llama_token_type): control tokens are specials, user-defined ones plain added tokens. */
const CONTROL = 3, USER_DEFINED = 4;

const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex });

/** SmolLM / StarCoder: every digit on its own (HF `Digits(individual_digits)`), then GPT-2's byte-level split. */
const digitsThenByteLevel = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '\\p{N}' }, behavior: 'Isolated', invert: false }, byteLevel(true)] };

/** tokenizer.ggml.pre → tokenizer.json pre_tokenizer (llama.cpp's llama-vocab.cpp lists the regexes per name). */
const PRE_TOKENIZERS: Record<string, unknown> = {
  default: byteLevel(true),
  'gpt-2': byteLevel(true),
  smollm: digitsThenByteLevel,
  starcoder: digitsThenByteLevel,
  qwen2: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: QWEN_SPLIT }, behavior: 'Isolated', invert: false }, byteLevel(false)] },
};

export function parseTokenizerMeta(metadata: Record<string, unknown>, source: string): GgufTokenizerMeta {
  const r = GgufTokenizerMeta.safeParse(metadata);
  if (!r.success) throw new Error(`${source}: tokenizer metadata: ${describeIssues(r.error)}`);
  const m = r.data;
  if (m['tokenizer.ggml.model'] !== 'gpt2') throw new Error(`${source}: tokenizer model ${JSON.stringify(m['tokenizer.ggml.model'])} is not supported (byte-level BPE, "gpt2", is)`);
  if (!(m['tokenizer.ggml.pre'] in PRE_TOKENIZERS)) throw new Error(`${source}: pre-tokenizer ${JSON.stringify(m['tokenizer.ggml.pre'])} is not supported (${Object.keys(PRE_TOKENIZERS).join(', ')} are)`);
  const n = m['tokenizer.ggml.tokens'].length;
  if (m['tokenizer.ggml.token_type'] && m['tokenizer.ggml.token_type'].length !== n) throw new Error(`${source}: ${m['tokenizer.ggml.token_type'].length} token types for ${n} tokens`);
  for (const key of ['tokenizer.ggml.bos_token_id', 'tokenizer.ggml.eos_token_id', 'tokenizer.ggml.unknown_token_id'] as const)
    if ((m[key] ?? 0) >= n) throw new Error(`${source}: ${key} ${m[key]} is outside the ${n}-token vocabulary`);
  return m;
}

export function tokenizerJsonFromGguf(m: GgufTokenizerMeta, source: string): TokenizerJson {
  const tokens = m['tokenizer.ggml.tokens'];
  const types = m['tokenizer.ggml.token_type'] ?? [];
  const unk = m['tokenizer.ggml.unknown_token_id'];
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => {
    if (Object.hasOwn(vocab, t)) throw new Error(`${source}: token ${JSON.stringify(t)} appears twice in the vocabulary (ids ${vocab[t]} and ${id})`);
    vocab[t] = id;
  });
  const added = tokens.flatMap((content, id) =>
    types[id] === CONTROL || types[id] === USER_DEFINED
      ? [{ id, content, single_word: false, lstrip: false, rstrip: false, normalized: types[id] === USER_DEFINED, special: types[id] === CONTROL }]
      : []);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: PRE_TOKENIZERS[m['tokenizer.ggml.pre']],
    post_processor: null,
    decoder: byteLevel(true),
    // transformers' GGUF conversion keeps the unknown token: a byte the vocabulary lacks becomes it
    model: { type: 'BPE', dropout: null, unk_token: unk === undefined ? null : tokens[unk], continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges: m['tokenizer.ggml.merges'] },
  } as TokenizerJson;
}

/** HF tokenizer_config.json: where transformers keeps the chat template and the special-token names. */
export function tokenizerConfigFromGguf(m: GgufTokenizerMeta): Record<string, unknown> {
  const tok = (id?: number) => (id === undefined ? null : m['tokenizer.ggml.tokens'][id]);
  return {
    add_bos_token: m['tokenizer.ggml.add_bos_token'],
    bos_token: tok(m['tokenizer.ggml.bos_token_id']),
    eos_token: tok(m['tokenizer.ggml.eos_token_id']),
    chat_template: m['tokenizer.chat_template'] ?? null,
  };
}
