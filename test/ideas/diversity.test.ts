import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosineDistance, farthestPointSelection, meanPairwiseDistance } from '../../core/diversity';
import { seededRandom } from '../../core/rng';
import { tfidfEmbed } from '../../core/tfidf';

test('cosine distance: parallel 0, orthogonal 1, opposite 2, zero vector 1', () => {
  assert.equal(cosineDistance([1, 2], [2, 4]), 0);
  assert.equal(cosineDistance([1, 0], [0, 3]), 1);
  assert.equal(cosineDistance([1, 1], [-1, -1]), 2);
  assert.equal(cosineDistance([0, 0], [1, 0]), 1);
  assert.throws(() => cosineDistance([1], [1, 2]), /differ in length/);
});

// Three tight bundles of directions around the axes, plus near-duplicates of the first bundle.
const handMade = [
  [1, 0.01, 0], [1, 0.02, 0], [1, 0, 0.02], [0.99, 0.01, 0.01], // ~x
  [0.01, 1, 0], [0.02, 1, 0.01],                                 // ~y
  [0, 0.01, 1], [0.01, 0, 1],                                    // ~z
  [1, 0.03, 0.01], [0.98, 0.02, 0],                              // ~x again
];
const bundle = (i: number) => (i < 4 || i >= 8 ? 'x' : i < 6 ? 'y' : 'z');

test('farthest-point selection picks one point per far-apart bundle, for every seed', () => {
  for (let seed = 0; seed < 20; seed++) {
    const picked = farthestPointSelection({ vectors: handMade, k: 3, seed });
    assert.equal(new Set(picked).size, 3);
    assert.deepEqual(picked.map(bundle).sort(), ['x', 'y', 'z'], `seed ${seed}: picked ${picked}`);
  }
});

test('farthest-point selection: second pick is the farthest point from the first, ties to the lowest index', () => {
  const vectors = [[1, 0], [0.9, 0.1], [0, 1], [-1, 0], [-1, 0]];
  // Whatever the start, the next pick maximises the distance to it.
  for (let seed = 0; seed < 10; seed++) {
    const [a, b] = farthestPointSelection({ vectors, k: 2, seed });
    const far = Math.max(...vectors.map((v) => cosineDistance(v, vectors[a!]!)));
    assert.equal(cosineDistance(vectors[a!]!, vectors[b!]!), far);
    if (a === 0 || a === 1) assert.equal(b, 3, 'the lowest index wins a tie between the duplicates 3 and 4');
  }
});

test('farthest-point selection is deterministic for a seed and the seed picks the start', () => {
  const rand = seededRandom(7);
  const vectors = Array.from({ length: 200 }, () => Array.from({ length: 16 }, () => rand() - 0.5));
  const a = farthestPointSelection({ vectors, k: 10, seed: 3 });
  assert.deepEqual(farthestPointSelection({ vectors, k: 10, seed: 3 }), a);
  const starts = new Set(Array.from({ length: 10 }, (_, seed) => farthestPointSelection({ vectors, k: 1, seed })[0]));
  assert.ok(starts.size > 5, `seeds should vary the starting point, got ${[...starts]}`);
});

test('farthest-point selection rejects a bad k with a clear error', () => {
  assert.throws(() => farthestPointSelection({ vectors: handMade, k: 11, seed: 1 }), /k=11 exceeds the 10 candidates/);
  assert.throws(() => farthestPointSelection({ vectors: handMade, k: 0, seed: 1 }), /positive integer/);
});

test('selected sets are more diverse than random sets (mean pairwise cosine distance)', () => {
  // Clustered data like idea candidates: many variants of few themes, unevenly sized.
  const rand = seededRandom(11);
  const centers = Array.from({ length: 12 }, () => Array.from({ length: 32 }, () => rand() - 0.5));
  const vectors = Array.from({ length: 300 }, (_, i) => {
    const c = centers[i % 7 === 0 ? i % 12 : i % 3]!; // three big themes, the rest rare
    return c.map((x) => x + (rand() - 0.5) * 0.3);
  });
  const k = 10;
  const chosen = meanPairwiseDistance(farthestPointSelection({ vectors, k, seed: 1 }).map((i) => vectors[i]!));
  const randomMeans = Array.from({ length: 500 }, () => {
    const pick = new Set<number>();
    while (pick.size < k) pick.add(Math.floor(rand() * vectors.length));
    return meanPairwiseDistance([...pick].map((i) => vectors[i]!));
  });
  const beaten = randomMeans.filter((m) => m < chosen).length / randomMeans.length;
  const avgRandom = randomMeans.reduce((s, m) => s + m, 0) / randomMeans.length;
  console.log(`diversity (synthetic): farthest-point ${chosen.toFixed(3)} vs random mean ${avgRandom.toFixed(3)}; beats ${(beaten * 100).toFixed(1)}% of 500 random sets`);
  assert.ok(beaten >= 0.99, `farthest-point set (${chosen}) should beat ≥99% of random sets, beat ${beaten}`);
});

test('TF-IDF embeddings: unit length, deterministic, similar texts closer than unrelated ones', () => {
  const docs = [
    'Replace the model with a random forest of 300 trees',
    'Replace the model with a random forest of 500 trees',
    'Standardize the features and use ridge regression',
    'Tokenize text with character n-grams and logistic regression',
  ];
  const a = tfidfEmbed(docs, { maxFeaturesPerBlock: 1000 });
  assert.deepEqual(tfidfEmbed(docs, { maxFeaturesPerBlock: 1000 }), a);
  for (const v of a.vectors) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-12);
  assert.equal(a.vectors[0]!.length, a.vocabulary.length);
  assert.ok(a.vocabulary.includes('w:random forest') && a.vocabulary.includes('c: tre'));
  const d = (i: number, j: number) => cosineDistance(a.vectors[i]!, a.vectors[j]!);
  assert.ok(d(0, 1) < d(0, 2) && d(0, 1) < d(0, 3), `forest variants should be nearest: ${d(0, 1)} ${d(0, 2)} ${d(0, 3)}`);
  assert.equal(tfidfEmbed(docs, { maxFeaturesPerBlock: 5 }).vocabulary.length, 10);
});
