/**
 * Offline text embeddings: TF-IDF over word n-grams (1–2) and character n-grams (3–5, within
 * word boundaries, like scikit-learn's `char_wb`). Each block is L2-normalised and weighted
 * 1/√2 so words and characters count equally and every vector has unit length. Pure and
 * deterministic: the vocabulary order depends only on the documents.
 */

export interface TfidfOptions {
  /** Keep at most this many features per block, the most frequent by document frequency (ties by term). */
  maxFeaturesPerBlock: number;
}

export interface TfidfEmbedding {
  vocabulary: string[];
  vectors: number[][];
}

const WORD_NGRAMS = [1, 2];
const CHAR_NGRAMS = [3, 4, 5];

export function tfidfEmbed(docs: readonly string[], { maxFeaturesPerBlock }: TfidfOptions): TfidfEmbedding {
  const words = docs.map(wordTerms);
  const chars = docs.map(charTerms);
  const wordBlock = tfidfBlock(words, maxFeaturesPerBlock);
  const charBlock = tfidfBlock(chars, maxFeaturesPerBlock);
  const w = Math.SQRT1_2;
  return {
    vocabulary: [...wordBlock.vocabulary.map((t) => `w:${t}`), ...charBlock.vocabulary.map((t) => `c:${t}`)],
    vectors: docs.map((_, i) => [...wordBlock.vectors[i]!.map((x) => x * w), ...charBlock.vectors[i]!.map((x) => x * w)]),
  };
}

function tokens(doc: string): string[] {
  return doc.toLowerCase().match(/[a-z0-9_]+/g) ?? [];
}

function wordTerms(doc: string): string[] {
  const t = tokens(doc);
  return WORD_NGRAMS.flatMap((n) => t.slice(0, Math.max(0, t.length - n + 1)).map((_, i) => t.slice(i, i + n).join(' ')));
}

function charTerms(doc: string): string[] {
  return tokens(doc).flatMap((tok) => {
    const padded = ` ${tok} `;
    return CHAR_NGRAMS.flatMap((n) => Array.from({ length: Math.max(0, padded.length - n + 1) }, (_, i) => padded.slice(i, i + n)));
  });
}

/** Sublinear tf (1 + ln count) × smooth idf (ln((1 + N)/(1 + df)) + 1), rows L2-normalised. */
function tfidfBlock(termLists: string[][], maxFeatures: number): TfidfEmbedding {
  const counts = termLists.map((terms) => {
    const c = new Map<string, number>();
    for (const t of terms) c.set(t, (c.get(t) ?? 0) + 1);
    return c;
  });
  const df = new Map<string, number>();
  for (const c of counts) for (const t of c.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const vocabulary = [...df.keys()]
    .sort((a, b) => df.get(b)! - df.get(a)! || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, maxFeatures)
    .sort();
  const column = new Map(vocabulary.map((t, i) => [t, i]));
  const n = termLists.length;
  const vectors = counts.map((c) => {
    const v = new Array<number>(vocabulary.length).fill(0);
    for (const [t, k] of c) {
      const j = column.get(t);
      if (j !== undefined) v[j] = (1 + Math.log(k)) * (Math.log((1 + n) / (1 + df.get(t)!)) + 1);
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return norm === 0 ? v : v.map((x) => x / norm);
  });
  return { vocabulary, vectors };
}
