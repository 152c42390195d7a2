import { z } from 'zod';
import { describeIssues } from '../core/zod-issues';

/** Qwen2's pre-tokenizer split (digits one by one, words with their leading space). */
export const QWEN_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const GPT2_SPLIT = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

const AddedToken = z.object({ id: z.number().int().nonnegative(), content: z.string().min(1), special: z.boolean().optional() }).passthrough();
const PreTok: z.ZodType<PreTokJson> = z.lazy(() =>
  z.union([
    z.object({ type: z.literal('ByteLevel'), use_regex: z.boolean().optional(), add_prefix_space: z.boolean().optional() }).passthrough(),
    z.object({ type: z.literal('Split'), pattern: z.object({ Regex: z.string() }).or(z.object({ String: z.string() })), behavior: z.string().optional(), invert: z.boolean().optional() }).passthrough(),
    z.object({ type: z.literal('Sequence'), pretokenizers: z.array(PreTok) }).passthrough(),
  ]),
);
type PreTokJson =
  | { type: 'ByteLevel'; use_regex?: boolean; add_prefix_space?: boolean }
  | { type: 'Split'; pattern: { Regex: string } | { String: string }; behavior?: string; invert?: boolean }
  | { type: 'Sequence'; pretokenizers: PreTokJson[] };

/** The subset of Hugging Face's tokenizer.json that byte-level BPE models (GPT-2, Qwen2, ours) use. */
export const TokenizerJson = z
  .object({
    added_tokens: z.array(AddedToken).default([]),
    normalizer: z.object({ type: z.string() }).passthrough().nullable().optional(),
    pre_tokenizer: PreTok,
    model: z.object({
      type: z.literal('BPE'),
      vocab: z.record(z.string(), z.number().int().nonnegative()),
      merges: z.array(z.union([z.string(), z.tuple([z.string(), z.string()])])),
    }).passthrough(),
  })
  .passthrough();
export type TokenizerJson = z.infer<typeof TokenizerJson>;

/** GPT-2's reversible byte → printable character table. */
const BYTE_TO_CHAR: string[] = (() => {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep(b) ? b : 256 + extra++));
})();
const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** JS has no inline `(?i:…)`; expand its ASCII letters into both-case classes. */
function jsRegex(pattern: string): RegExp {
  const src = pattern.replace(/\(\?i:((?:[^()\\]|\\.)*)\)/g, (_, body: string) =>
    '(?:' + body.replace(/[a-zA-Z]/g, (ch) => `[${ch.toLowerCase()}${ch.toUpperCase()}]`) + ')');
  return new RegExp(src, 'gu');
}

type Splitter = (piece: string) => string[];

function buildSplitter(p: PreTokJson): { split: Splitter; byteLevel: boolean } {
  if (p.type === 'Sequence') {
    const parts = p.pretokenizers.map(buildSplitter);
    return {
      split: (s) => parts.reduce<string[]>((pieces, part) => pieces.flatMap(part.split), [s]),
      byteLevel: parts.some((x) => x.byteLevel),
    };
  }
  if (p.type === 'ByteLevel') {
    if (p.add_prefix_space) throw new Error('tokenizer.json: ByteLevel add_prefix_space=true is not supported');
    const re = p.use_regex === false ? undefined : jsRegex(GPT2_SPLIT);
    return { split: (s) => (re ? s.match(re) ?? [] : [s]), byteLevel: true };
  }
  if ('String' in p.pattern) throw new Error('tokenizer.json: Split with a String pattern is not supported');
  if (p.invert || (p.behavior && p.behavior !== 'Isolated')) throw new Error(`tokenizer.json: Split behavior ${p.behavior} is not supported (Isolated is)`);
  const re = jsRegex(p.pattern.Regex);
  return { split: (s) => splitIsolated(s, re), byteLevel: false };
}

/** HF `Split` with behavior Isolated: every match is a piece and so is every non-empty stretch between matches. */
function splitIsolated(s: string, re: RegExp): string[] {
  const pieces: string[] = [];
  let last = 0;
  for (const m of s.matchAll(re)) {
    if (m.index > last) pieces.push(s.slice(last, m.index));
    if (m[0]) pieces.push(m[0]);
    last = m.index + m[0].length;
  }
  if (last < s.length) pieces.push(s.slice(last));
  return pieces;
}

const toByteChars = (s: string) => Array.from(Buffer.from(s, 'utf8'), (b) => BYTE_TO_CHAR[b]).join('');

/** Byte-level BPE tokenizer reading and writing Hugging Face's tokenizer.json. */
export class Tokenizer {
  private readonly vocab: Map<string, number>;
  private readonly idToToken: string[];
  private readonly ranks: Map<string, number>;
  private readonly added: Map<string, number>;
  private readonly addedRe?: RegExp;
  private readonly split: Splitter;
  private readonly nfc: boolean;
  private readonly cache = new Map<string, number[]>();
  /** The unk token's id, when the tokenizer has one: what a symbol missing from the vocabulary encodes as. */
  private readonly unkId?: number;

  /** `eos`: the end-of-sequence id when the model's config names one (an instruct model ends turns with its own token). */
  constructor(readonly json: TokenizerJson, private readonly eos?: number) {
    this.vocab = new Map(Object.entries(json.model.vocab));
    const unk = (json.model as { unk_token?: string | null }).unk_token;
    this.unkId = unk ? this.vocab.get(unk) : undefined;
    this.added = new Map((json.added_tokens ?? []).map((t) => [t.content, t.id]));
    this.idToToken = [];
    for (const [tok, id] of [...this.vocab, ...this.added]) this.idToToken[id] = tok;
    this.ranks = new Map(json.model.merges.map((m, i) => [typeof m === 'string' ? m : m.join(' '), i]));
    const escaped = [...this.added.keys()].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.addedRe = escaped.length ? new RegExp(`(${escaped.join('|')})`) : undefined;
    const s = buildSplitter(json.pre_tokenizer);
    if (!s.byteLevel) throw new Error('tokenizer.json: only byte-level BPE tokenizers are supported');
    this.split = s.split;
    const norm = json.normalizer?.type;
    if (norm && norm !== 'NFC') throw new Error(`tokenizer.json: normalizer ${norm} is not supported (NFC is)`);
    this.nfc = norm === 'NFC';
  }

  static fromJson(raw: unknown, source = 'tokenizer.json', eos?: number): Tokenizer {
    const r = TokenizerJson.safeParse(raw);
    if (!r.success) throw new Error(`${source}: ${describeIssues(r.error)}`);
    // keep the file's own object (key order included) so saving it back is byte-identical
    const tok = new Tokenizer(raw as TokenizerJson, eos);
    if (eos !== undefined && tok.idToToken[eos] === undefined) throw new Error(`${source}: eos token id ${eos} is outside the vocabulary (size ${tok.vocabSize})`);
    return tok;
  }

  get vocabSize(): number {
    return this.idToToken.length;
  }

  tokenId(content: string): number {
    const id = this.added.get(content) ?? this.vocab.get(content);
    if (id === undefined) throw new Error(`token ${JSON.stringify(content)} is not in the vocabulary`);
    return id;
  }

  get eosId(): number {
    return this.eos ?? this.added.get('<|endoftext|>') ?? this.added.get('<|im_end|>') ?? this.tokenId('<|endoftext|>');
  }

  encode(text: string): number[] {
    const out: number[] = [];
    const parts = this.addedRe ? text.split(this.addedRe) : [text];
    parts.forEach((part, i) => {
      if (i % 2 === 1) return void out.push(this.added.get(part)!);
      const norm = this.nfc ? part.normalize('NFC') : part;
      for (const piece of this.split(norm)) out.push(...this.bpe(toByteChars(piece)));
    });
    return out;
  }

  decode(ids: number[]): string {
    const bytes: number[] = [];
    const chunks: string[] = [];
    const flush = () => { chunks.push(Buffer.from(bytes).toString('utf8')); bytes.length = 0; };
    for (const id of ids) {
      const tok = this.idToToken[id];
      if (tok === undefined) throw new Error(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
      if (this.added.has(tok)) { flush(); chunks.push(tok); continue; }
      for (const ch of tok) bytes.push(CHAR_TO_BYTE.get(ch) ?? 0x3f);
    }
    flush();
    return chunks.join('');
  }

  private bpe(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    // A byte symbol the vocabulary lacks (SmolLM2 has no token for 21 bytes, e.g. 0x1D) becomes the unk token in
    // place, or without one is dropped before merging, as Hugging Face tokenizers' BPE does (no byte fallback): an
    // observation holding such a control byte must not stop the policy.
    let parts = Array.from(word).filter((c) => this.unkId !== undefined || this.vocab.has(c));
    while (parts.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < parts.length - 1; i++) {
        const r = this.ranks.get(parts[i] + ' ' + parts[i + 1]);
        if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) break;
      const a = parts[best], b = parts[best + 1];
      const merged: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i < parts.length - 1 && parts[i] === a && parts[i + 1] === b) { merged.push(a + b); i++; } else merged.push(parts[i]);
      }
      parts = merged;
    }
    const ids = parts.map((p) => {
      const id = this.vocab.get(p) ?? (p.length === 1 ? this.unkId : undefined);
      if (id === undefined) throw new Error(`tokenizer: no vocabulary entry for ${JSON.stringify(p)}`);
      return id;
    });
    if (this.cache.size < 100_000) this.cache.set(word, ids);
    return ids;
  }

  /**
   * Trains a byte-level BPE on `texts`: 256 byte symbols, then the most frequent adjacent pair merged
   * repeatedly (ties broken by pair id, so training is deterministic) until `vocabSize` including specials.
   */
  static train(params: { texts: string[]; vocabSize: number }): Tokenizer {
    const { texts, vocabSize } = params;
    const nMerges = vocabSize - 256 - SPECIAL_TOKENS.length;
    if (nMerges < 0) throw new Error(`vocabSize ${vocabSize} is below the ${256 + SPECIAL_TOKENS.length} byte and special tokens`);
    const splitter = buildSplitter({ type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: QWEN_SPLIT }, behavior: 'Isolated' }, { type: 'ByteLevel', use_regex: false }] });
    const counts = new Map<string, number>();
    for (const t of texts) for (const piece of splitter.split(t.normalize('NFC'))) { const w = toByteChars(piece); counts.set(w, (counts.get(w) ?? 0) + 1); }
    const symbols: string[] = [...BYTE_TO_CHAR];
    const symId = new Map(symbols.map((s, i) => [s, i]));
    const words = [...counts.keys()].map((w) => Array.from(w, (c) => symId.get(c)!));
    const freq = [...counts.values()];
    const SHIFT = 1 << 16;
    const pairCount = new Map<number, number>();
    const pairWords = new Map<number, Set<number>>();
    const addPairs = (wi: number, sign: number) => {
      const w = words[wi];
      for (let i = 0; i < w.length - 1; i++) {
        const k = w[i] * SHIFT + w[i + 1];
        pairCount.set(k, (pairCount.get(k) ?? 0) + sign * freq[wi]);
        if (sign > 0) { let s = pairWords.get(k); if (!s) pairWords.set(k, (s = new Set())); s.add(wi); }
      }
    };
    words.forEach((_, wi) => addPairs(wi, 1));
    const merges: string[] = [];
    for (let m = 0; m < nMerges; m++) {
      let best = -1, bestCount = 0;
      for (const [k, c] of pairCount) if (c > bestCount || (c === bestCount && c > 0 && k < best)) { best = k; bestCount = c; }
      if (bestCount < 2) break;
      const a = Math.floor(best / SHIFT), b = best % SHIFT;
      const id = symbols.length;
      symbols.push(symbols[a] + symbols[b]);
      merges.push(`${symbols[a]} ${symbols[b]}`);
      for (const wi of pairWords.get(best) ?? []) {
        const w = words[wi];
        addPairs(wi, -1);
        const nw: number[] = [];
        for (let i = 0; i < w.length; i++) {
          if (i < w.length - 1 && w[i] === a && w[i + 1] === b) { nw.push(id); i++; } else nw.push(w[i]);
        }
        words[wi] = nw;
        addPairs(wi, 1);
      }
      pairWords.delete(best);
      pairCount.delete(best);
    }
    const vocab: Record<string, number> = {};
    symbols.forEach((s, i) => (vocab[s] = i));
    const addedTokens = SPECIAL_TOKENS.map((content, i) => ({ id: symbols.length + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
    return new Tokenizer({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: addedTokens,
      normalizer: { type: 'NFC' },
      pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: QWEN_SPLIT }, behavior: 'Isolated', invert: false }, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }] },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges },
    } as TokenizerJson);
  }
}
