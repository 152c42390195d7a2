import { seededRandom, shuffled } from './rng';

/**
 * Which chosen ideas seed each episode: `episodes` subsets of size min..max, cycling through a seeded
 * shuffle so every idea is used before any repeats (coverage first, then variety).
 */
export function ideaSubsets(p: { ideaCount: number; episodes: number; min: number; max: number; seed: number }): number[][] {
  const rng = seededRandom(p.seed);
  const out: number[][] = [];
  let deck: number[] = [];
  for (let e = 0; e < p.episodes; e++) {
    const size = Math.min(p.ideaCount, p.min + Math.floor(rng() * (p.max - p.min + 1)));
    const subset: number[] = [];
    while (subset.length < size) {
      if (deck.length === 0) deck = shuffled([...Array(p.ideaCount).keys()], rng);
      const next = deck.shift()!;
      if (!subset.includes(next)) subset.push(next);
    }
    out.push(subset);
  }
  return out;
}
