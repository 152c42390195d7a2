/** Seeded PRNG so initialisation and sampling are reproducible on every backend (one implementation: core/rng). */
export { seededRandom as rng } from '../core/rng';

export function normalArray(n: number, std: number, next: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - next())) * std;
    const th = 2 * Math.PI * next();
    out[i] = r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = r * Math.sin(th);
  }
  return out;
}
