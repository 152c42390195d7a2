/**
 * Diverse subset selection on embeddings: farthest-point (max-min) selection on cosine distance.
 * Pure and deterministic: the seed only picks the first point; every later pick is the candidate
 * whose nearest already-chosen point is farthest away, ties going to the lowest index.
 */

import { seededRandom } from './rng';

/** Cosine distance 1 − cos(a, b); a zero vector has no direction, so it is at distance 1 from everything. */
export function cosineDistance(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`cosineDistance: vectors differ in length (${a.length} vs ${b.length})`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (na === 0 || nb === 0) return 1;
  // Rounding can push |cos| a hair past 1; clamp so distances stay in [0, 2].
  return 1 - Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
}

export interface FarthestPointParams {
  vectors: readonly (readonly number[])[];
  k: number;
  seed: number;
}

/** Indices of k vectors chosen by farthest-point selection, in the order they were picked. */
export function farthestPointSelection({ vectors, k, seed }: FarthestPointParams): number[] {
  const n = vectors.length;
  if (!Number.isInteger(k) || k < 1) throw new Error(`farthestPointSelection: k must be a positive integer, got ${k}`);
  if (k > n) throw new Error(`farthestPointSelection: k=${k} exceeds the ${n} candidates`);
  const first = Math.floor(seededRandom(seed)() * n);
  const chosen = [first];
  const nearest = vectors.map((v) => cosineDistance(v, vectors[first]!));
  const taken = new Set(chosen);
  while (chosen.length < k) {
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (!taken.has(i) && (best < 0 || nearest[i]! > nearest[best]!)) best = i;
    }
    chosen.push(best);
    taken.add(best);
    for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i]!, cosineDistance(vectors[i]!, vectors[best]!));
  }
  return chosen;
}

/** Mean cosine distance over all pairs of the given vectors: the diversity score reported for a selection. */
export function meanPairwiseDistance(vectors: readonly (readonly number[])[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < vectors.length; i++) {
    for (let j = i + 1; j < vectors.length; j++) {
      sum += cosineDistance(vectors[i]!, vectors[j]!);
      pairs++;
    }
  }
  return pairs === 0 ? 0 : sum / pairs;
}

