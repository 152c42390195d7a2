import type { Tokenizer } from './tokenizer';

/**
 * GPT-2's byte → printable character table (as in `tokenizer.ts`, which keeps it private): vocabulary entries
 * are these characters, one per byte.
 */
const CHAR_TO_BYTE: Map<string, number> = (() => {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return new Map(Array.from({ length: 256 }, (_, b) => [String.fromCodePoint(keep(b) ? b : 256 + extra++), b] as const));
})();

/**
 * Every ordinary token's bytes in one trie, so that a byte automaton can be run over the whole vocabulary at once:
 * tokens that share a prefix share the automaton steps for it, and a dead prefix prunes every token below it.
 * Added (special) tokens are not in it: constrained decoding never emits them.
 * Flat arrays: node n's edges are `edgeByte/edgeChild[edgeStart[n] .. edgeStart[n + 1])`, the token ending at
 * node n is `tokenAt[n]` (-1 when none).
 */
export interface TokenTrie {
  edgeStart: Int32Array;
  edgeByte: Uint8Array;
  edgeChild: Int32Array;
  tokenAt: Int32Array;
  /** Bytes of each token id (empty for added tokens). */
  bytes: Uint8Array[];
}

const tries = new WeakMap<Tokenizer, TokenTrie>();

/** The trie of a tokenizer's vocabulary, built once per tokenizer (≈0.1 s for 49k tokens) and cached. */
export function tokenTrie(tokenizer: Tokenizer): TokenTrie {
  let trie = tries.get(tokenizer);
  if (!trie) tries.set(tokenizer, (trie = buildTrie(tokenizer)));
  return trie;
}

function buildTrie(tokenizer: Tokenizer): TokenTrie {
  const bytes: Uint8Array[] = Array.from({ length: tokenizer.vocabSize }, () => new Uint8Array(0));
  for (const [text, id] of Object.entries(tokenizer.json.model.vocab)) {
    const b = Array.from(text, (ch) => CHAR_TO_BYTE.get(ch));
    if (b.some((x) => x === undefined)) throw new Error(`token ${id} ${JSON.stringify(text)} is not byte-level`);
    bytes[id] = Uint8Array.from(b as number[]);
  }
  for (const t of tokenizer.json.added_tokens ?? []) bytes[t.id] = new Uint8Array(0);
  // children as maps while building, then laid out breadth-first into the flat arrays
  const children: Map<number, number>[] = [new Map()];
  const tokenAt: number[] = [-1];
  bytes.forEach((b, id) => {
    if (b.length === 0) return;
    let node = 0;
    for (const x of b) {
      let child = children[node].get(x);
      if (child === undefined) {
        child = children.length;
        children.push(new Map());
        tokenAt.push(-1);
        children[node].set(x, child);
      }
      node = child;
    }
    tokenAt[node] = id;
  });
  const edgeStart = new Int32Array(children.length + 1);
  const edgeByte = new Uint8Array(children.length - 1);
  const edgeChild = new Int32Array(children.length - 1);
  let e = 0;
  children.forEach((m, n) => {
    edgeStart[n] = e;
    for (const [x, child] of [...m].sort((a, b) => a[0] - b[0])) {
      edgeByte[e] = x;
      edgeChild[e++] = child;
    }
  });
  edgeStart[children.length] = e;
  return { edgeStart, edgeByte, edgeChild, tokenAt: Int32Array.from(tokenAt), bytes };
}
