import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../model/backend';
import { attention } from '../../model/layers';
import { Qwen2Model, attentionBlocks, maskedBlocks, segmentMask } from '../../model/qwen2';
import { rng, normalArray } from '../../model/random';
import { tinyConfig } from './fixtures';

before(async () => { await initBackend(); });

/** Packed rows: runs of segments 1, 2, … with padding (0) between and after, and prefixes naming an earlier segment. */
const packedRows = fc.record({ rows: fc.integer({ min: 1, max: 3 }), runs: fc.array(fc.tuple(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 0, max: 6 }), fc.boolean()), { minLength: 1, maxLength: 8 }), size: fc.integer({ min: 4, max: 120 }) })
  .map(({ rows, runs, size }) => {
    const segments: number[][] = [], prefixes: number[][] = [];
    for (let b = 0; b < rows; b++) {
      const seg: number[] = [], pre: number[] = [];
      runs.forEach(([len, pad, shared], k) => {
        const id = k + 1;
        for (let i = 0; i < len + b; i++) { seg.push(id); pre.push(shared && k > 0 ? 1 : 0); }
        for (let i = 0; i < pad; i++) { seg.push(0); pre.push(0); }
      });
      segments.push(seg);
      prefixes.push(pre);
    }
    const T = Math.max(...segments.map((r) => r.length));
    for (let b = 0; b < rows; b++) while (segments[b].length < T) { segments[b].push(0); prefixes[b].push(0); }
    return { segments, prefixes, size };
  });

describe('blocked causal attention', { timeout: 300_000 }, () => {
  test('every key a query may see lies in its block’s key range (property)', () => {
    fc.assert(fc.property(packedRows, ({ segments, prefixes, size }) => {
      const blocks = attentionBlocks({ segments, prefixes, size });
      const T = segments[0].length;
      assert.equal(blocks.map((b) => b.q1 - b.q0).reduce((a, b) => a + b, 0), T);
      blocks.forEach((b, i) => { assert.equal(b.q0, i * size); assert.ok(b.first <= i); });
      segments.forEach((seg, r) => {
        for (let i = 0; i < T; i++) {
          const block = blocks[Math.floor(i / size)];
          for (let j = 0; j <= i; j++) {
            const sees = seg[i] !== 0 && seg[j] !== 0 && (seg[j] === seg[i] || seg[j] === prefixes[r][i]);
            if (sees) assert.ok(j >= blocks[block.first].q0, `row ${r}: query ${i} sees key ${j}, block keys start at ${blocks[block.first].q0}`);
          }
        }
      });
    }), { numRuns: 200 });
  });

  test('blocked attention equals dense attention under the full mask, values and gradients (multi-block rows with prefixes and padding)', () => {
    const heads = 4, kvHeads = 2, H = 32, D = H / heads;
    const next = rng(3);
    const w = Object.fromEntries(Object.entries({ wq: [H, H], wk: [H, kvHeads * D], wv: [H, kvHeads * D], wo: [H, H] }).map(([k, s]) => [k, tf.tensor(normalArray(s[0] * s[1], 0.2, next), s)])) as Record<'wq' | 'wk' | 'wv' | 'wo', tf.Tensor>;
    const seg = [[...Array(40).fill(1), ...Array(30).fill(2), ...Array(25).fill(3), 0, 0, ...Array(20).fill(4), ...Array(9).fill(0)], [...Array(70).fill(1), ...Array(56).fill(2)]];
    const pre = [seg[0].map((s) => (s === 2 || s === 3 ? 1 : 0)), seg[1].map(() => 0)];
    const T = seg[0].length, B = 2;
    const x = tf.tensor(normalArray(B * T * H, 1, next), [B * T, H]);
    const cos = tf.ones([B, 1, T, D]), sin = tf.zeros([B, 1, T, D]);
    const real = tf.tensor(seg.flat().map((s) => (s ? 1 : 0)), [B * T, 1]);
    const run = (opts: { blocks?: ReturnType<typeof maskedBlocks> }) => tf.tidy(() => {
      const f = (xx: tf.Tensor) => attention({ x: xx, w, batch: B, heads, kvHeads, cos, sin, mask: segmentMask(seg, pre), ...opts }).out.mul(real);
      const out = f(x);
      const [g] = tf.grads((xx: tf.Tensor) => f(xx).square().sum())([x]);
      return [out.arraySync() as number[][], g.arraySync() as number[][]] as const;
    });
    const dense = run({});
    for (const size of [16, 37, 128]) {
      const blocks = maskedBlocks({ segments: seg, prefixes: pre }, size);
      assert.ok(size > 100 || blocks.some((b, i) => b.first > 0 && b.first < i), 'some block skips keys');
      const blocked = run({ blocks });
      tf.dispose(blocks.map((b) => b.mask));
      for (const [k, [a, b]] of [['output', [blocked[0], dense[0]]], ['gradient', [blocked[1], dense[1]]]] as const)
        a.forEach((row, n) => row.forEach((v, h) => assert.ok(Math.abs(v - b[n][h]) < 1e-4, `block ${size}, ${k} [${n}, ${h}]: ${v} vs ${b[n][h]}`)));
    }
  });

  test('trailing padding is cut: the real positions are as without it, the padding is zero', () => {
    const model = Qwen2Model.init(tinyConfig({ max_position_embeddings: 600 }), 4);
    try {
      const T = 300, pad = 40;
      const ids = Array.from({ length: T }, (_, i) => (i * 7) % 300 + 3);
      const withPad = { ids: [[...ids, ...Array(pad).fill(0)]], segments: [[...Array(T).fill(1), ...Array(pad).fill(0)]], positions: [[...ids.keys(), ...Array(pad).fill(0)]] };
      const padded = tf.tidy(() => model.forward(withPad).hidden.arraySync() as number[][][]);
      const plain = tf.tidy(() => model.forward({ ids: [ids], segments: [Array(T).fill(1)], positions: [[...ids.keys()]] }).hidden.arraySync() as number[][][]);
      assert.equal(padded[0].length, T + pad);
      plain[0].forEach((row, t) => row.forEach((v, h) => assert.ok(Math.abs(v - padded[0][t][h]) < 1e-5, `position ${t}: ${v} vs ${padded[0][t][h]}`)));
      padded[0].slice(T).forEach((row) => assert.ok(row.every((v) => v === 0)));
    } finally {
      model.dispose();
    }
  });
});
