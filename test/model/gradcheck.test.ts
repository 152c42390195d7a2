import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../model/backend';
import { applyRope, attention, embed, linear, rmsNorm, ropeTables, softmaxAttention, swiglu } from '../../model/layers';
import { lmLoss, tokenLogProbs } from '../../model/lm-loss';
import { Qwen2Model } from '../../model/qwen2';
import { normalArray, rng } from '../../model/random';
import { tinyConfig } from './fixtures';

before(async () => { await initBackend(); });

const next = rng(42);
const randn = (shape: number[], std = 1) => tf.tensor(normalArray(shape.reduce((a, b) => a * b, 1), std, next), shape);

/**
 * Directional-derivative check: for a random direction d of each input, the analytic ⟨∇f, d⟩ must match the
 * central difference (f(x+εd) − f(x−εd)) / 2ε. The scalar f is ⟨block(x), r⟩ for a fixed random r.
 */
function gradCheck(name: string, block: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], eps = 1e-2): void {
  const probe = tf.tidy(() => randn(block(...inputs).shape));
  const f = (...xs: tf.Tensor[]) => block(...xs).mul(probe).sum() as tf.Scalar;
  const grads = tf.grads(f)(inputs);
  inputs.forEach((x, i) => {
    const d = randn(x.shape);
    const analytic = grads[i].mul(d).sum().dataSync()[0];
    const shifted = (s: number) => tf.tidy(() => f(...inputs.map((y, j) => (j === i ? y.add(d.mul(s)) : y))).dataSync()[0]);
    const numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
    const rel = Math.abs(analytic - numeric) / Math.max(1e-3, Math.abs(numeric));
    assert.ok(rel < 2e-2, `${name} input ${i}: analytic ${analytic} vs finite difference ${numeric} (rel ${rel.toExponential(2)})`);
  });
}

test('RMSNorm gradient', () => gradCheck('rmsNorm', (x, w) => rmsNorm(x, w, 1e-6), [randn([6, 8]), randn([8])]));

test('linear gradient', () => gradCheck('linear', (x, w, b) => linear(x, w, b), [randn([6, 8]), randn([8, 5]), randn([5])]));

test('embedding gradient', () => gradCheck('embed', (t) => embed(tf.tensor1d([1, 3, 3, 0, 2, 4], 'int32'), t), [randn([6, 4])]));

test('rotary embedding gradient', () => {
  const { cos, sin } = ropeTables({ positions: Int32Array.from([0, 1, 2, 7, 0, 5, 6, 9]), batch: 2, len: 4, headDim: 8, theta: 10000 });
  gradCheck('rope', (x) => applyRope(x, cos, sin), [randn([2, 3, 4, 8])]);
});

test('grouped-query attention gradient (causal mask, 4 query heads on 2 kv heads)', () => {
  const B = 2, T = 5, H = 16, heads = 4, kvHeads = 2, D = H / heads;
  const { cos, sin } = ropeTables({ positions: Int32Array.from({ length: B * T }, (_, i) => i % T), batch: B, len: T, headDim: D, theta: 10000 });
  const mask = tf.tensor(Array.from({ length: B * T * T }, (_, k) => ((k % T) <= Math.floor(k / T) % T ? 0 : -1e9)), [B, 1, 1, T, T]);
  gradCheck('attention', (x, wq, bq, wk, bk, wv, bv, wo) => attention({ x, w: { wq, bq, wk, bk, wv, bv, wo }, batch: B, heads, kvHeads, cos, sin, mask }).out,
    [randn([B * T, H]), randn([H, H], 0.3), randn([H]), randn([H, kvHeads * D], 0.3), randn([kvHeads * D]), randn([H, kvHeads * D], 0.3), randn([kvHeads * D]), randn([H, H], 0.3)]);
});

test('attention’s written-out gradient (kept weights, rowsum(dO∘O)) equals tfjs autodiff of softmax(q·kᵀ + mask)·v', () => {
  // 2 kv heads, 3 query heads each, 5 queries over 7 keys; the mask hides a different key set per query
  const [B, kv, rep, t, s, D] = [2, 2, 3, 5, 7, 4];
  const q = randn([B, kv, rep * t, D]), k = randn([B, kv, s, D]), v = randn([B, kv, s, D]), dO = randn([B, kv, rep * t, D]);
  const mask = tf.tensor(Array.from({ length: B * t * s }, (_, i) => (i % 3 === 1 ? -1e9 : 0)), [B, 1, 1, t, s]);
  const reference = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
    tf.matMul(tf.softmax(tf.matMul(qq, kk, false, true).reshape([B, kv, rep, t, s]).add(mask), -1).reshape([B, kv, rep * t, s]), vv);
  const ours = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => softmaxAttention({ q: qq, k: kk, v: vv, mask, rep });
  const loss = (f: typeof reference) => (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => f(qq, kk, vv).mul(dO).sum() as tf.Scalar;
  const maxDiff = (a: tf.Tensor, b: tf.Tensor) => a.sub(b).abs().max().dataSync()[0];
  assert.ok(maxDiff(ours(q, k, v), reference(q, k, v)) < 1e-5);
  const [gOurs, gRef] = [tf.grads(loss(ours))([q, k, v]), tf.grads(loss(reference))([q, k, v])];
  ['q', 'k', 'v'].forEach((n, i) => {
    const d = maxDiff(gOurs[i], gRef[i]);
    assert.ok(d < 1e-4 && gRef[i].abs().max().dataSync()[0] > 1e-2, `gradient of ${n}: max |ours − autodiff| ${d}`);
  });
});

test('SwiGLU MLP gradient', () => gradCheck('swiglu', (x, g, u, d) => swiglu(x, g, u, d), [randn([6, 8]), randn([8, 12], 0.5), randn([8, 12], 0.5), randn([12, 8], 0.5)]));

/** Two packed rows (two segments, then one with padding) with the given loss weights. */
function packedBatch(weights: number[][]) {
  return {
    ids: [[5, 9, 12, 40, 7, 3], [8, 8, 100, 2, 0, 0]],
    targets: [[9, 12, 40, 7, 3, 11], [8, 100, 2, 6, 0, 0]],
    weights,
    segments: [[1, 1, 1, 2, 2, 2], [1, 1, 1, 1, 0, 0]],
    positions: [[0, 1, 2, 0, 1, 2], [0, 1, 2, 3, 0, 0]],
  };
}

test('whole-model loss gradient (packed segments, response-only weights)', () => {
  const model = Qwen2Model.init(tinyConfig({ num_hidden_layers: 1, tie_word_embeddings: true }), 5);
  const batch = packedBatch([[0, 1, 1, 0, 1, 1], [0, 1, 1, 1, 0, 0]]);
  const names = ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.k_proj.bias', 'model.layers.0.mlp.down_proj.weight', 'model.embed_tokens.weight', 'model.norm.weight'];
  const { grads } = tf.variableGrads(() => lmLoss(model, batch), model.lmVariables());
  for (const n of names) {
    const v = model.p(n);
    const orig = v.clone();
    const d = randn(v.shape);
    const lossAt = (s: number) => { v.assign(orig.add(d.mul(s))); return tf.tidy(() => lmLoss(model, batch).dataSync()[0]); };
    const numeric = (lossAt(1e-3) - lossAt(-1e-3)) / 2e-3;
    v.assign(orig);
    const analytic = grads[v.name].mul(d).sum().dataSync()[0];
    // float32 loss of ~6 differenced at ε = 1e-3 carries ~5e-4 absolute noise
    assert.ok(Math.abs(analytic - numeric) <= 2e-2 * Math.abs(numeric) + 1e-3, `${n}: analytic ${analytic} vs finite difference ${numeric}`);
  }
  model.dispose();
});

test('the loss over response positions only equals the weighted mean of every position’s log-prob', () => {
  const model = Qwen2Model.init(tinyConfig({ num_hidden_layers: 1 }), 6);
  const batch = packedBatch([[0, 0.5, 1, 0, 1, 1], [0, 1, 1, 1, 0, 0]]);
  for (const checkpointing of [false, true]) {
    model.gradientCheckpointing = checkpointing;
    const loss = tf.tidy(() => lmLoss(model, batch).dataSync()[0]);
    const everyPosition = tf.tidy(() => tokenLogProbs(model, batch, batch.targets).mul(tf.tensor2d(batch.weights)).sum().neg().div(batch.weights.flat().reduce((a, b) => a + b, 0)).dataSync()[0]);
    assert.ok(Math.abs(loss - everyPosition) < 1e-5, `checkpointing ${checkpointing}: ${loss} vs ${everyPosition}`);
  }
  model.dispose();
});
