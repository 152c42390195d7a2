import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clipped, entropy, gae, k3, normalizeAdvantages, policyLoss, ppoTargets, shapedRewards, valueLoss } from '../../core/ppo';

const close = (actual: number[], expected: number[], tol = 1e-9) => {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tol, `[${i}] ${a} ≠ ${expected[i]} (${actual} vs ${expected})`));
};

test('shaped rewards: −β·k1 on every token, the step reward added on the last', { timeout: 5_000 }, () => {
  // k1 = old − ref = [0.5, −1]; β = 0.1
  close(shapedRewards({ reward: 0.7, oldLogprobs: [-1, -2], refLogprobs: [-1.5, -1], klCoef: 0.1 }), [-0.05, 0.8]);
  assert.throws(() => shapedRewards({ reward: 1, oldLogprobs: [], refLogprobs: [], klCoef: 0 }), /at least one response token/);
});

test('GAE by hand: γ=1, λ=0.5 and γ=0.9, λ=0.95, value after the last token 0', { timeout: 5_000 }, () => {
  // δ2 = 1 − .6 = .4; δ1 = .6 − .4 = .2, A1 = .2 + .5·.4 = .4; δ0 = .4 − .5 = −.1, A0 = −.1 + .5·.4 = .1
  const a = gae({ rewards: [0, 0, 1], values: [0.5, 0.4, 0.6], gamma: 1, lambda: 0.5 });
  close(a.advantages, [0.1, 0.4, 0.4]);
  close(a.returns, [0.6, 0.8, 1.0]);
  // δ2 = .4; δ1 = .9·.6 − .4 = .14, A1 = .14 + .855·.4 = .482; δ0 = .9·.4 − .5 = −.14, A0 = −.14 + .855·.482 = .27211
  close(gae({ rewards: [0, 0, 1], values: [0.5, 0.4, 0.6], gamma: 0.9, lambda: 0.95 }).advantages, [0.27211, 0.482, 0.4]);
  // λ = 1, γ = 1: advantage is return-to-go minus value (Monte Carlo)
  close(gae({ rewards: [0.1, 0.2, 0.3], values: [0, 0, 0], gamma: 1, lambda: 1 }).advantages, [0.6, 0.5, 0.3]);
});

test('advantages are whitened over every token of the batch', { timeout: 5_000 }, () => {
  // mean 2, population std √(2/3)
  const s = Math.sqrt(2 / 3);
  const [a, b] = normalizeAdvantages([[1, 2], [3]]);
  close(a, [-1 / s, 0], 1e-7);
  close(b, [1 / s], 1e-7);
  close(normalizeAdvantages([[5, 5]])[0], [0, 0], 1e-7);
});

test('clipped surrogate by hand (ε = 0.2) for both signs of the advantage on both sides of the trust region', { timeout: 5_000 }, () => {
  const lp = (ratio: number) => ({ logprob: Math.log(ratio), oldLogprob: 0 });
  close([policyLoss({ ...lp(1.5), advantage: 2 }, 0.2)], [-2.4]); // gain capped at 1.2·A
  close([policyLoss({ ...lp(1.5), advantage: -2 }, 0.2)], [3]); // a harmful move is not capped
  close([policyLoss({ ...lp(0.5), advantage: 2 }, 0.2)], [-1]);
  close([policyLoss({ ...lp(0.5), advantage: -2 }, 0.2)], [1.6]);
  close([policyLoss({ ...lp(1), advantage: 0.3 }, 0.2)], [-0.3]);
  assert.equal(clipped(lp(1.25), 0.2), true);
  assert.equal(clipped(lp(1.1), 0.2), false);
});

test('clipped value loss, k3 and entropy by hand', { timeout: 5_000 }, () => {
  // unclipped (1 − .6)² = .16 beats clipped (.7 − .6)² = .01
  close([valueLoss({ value: 1, oldValue: 0.5, ret: 0.6 }, 0.2)], [0.08]);
  // clipped (.3 − 0)² = .09 beats unclipped 0: moving too far from the old value is not rewarded
  close([valueLoss({ value: 0, oldValue: 0.5, ret: 0 }, 0.2)], [0.045]);
  close([k3(Math.log(2), 0)], [1 - Math.log(2)]);
  close([k3(-1, -1)], [0]);
  close([entropy(Array(4).fill(Math.log(0.25)))], [Math.log(4)]);
});

test('ppoTargets: KL-shaped GAE per sample, advantages normalised across the batch, KL to the reference reported', { timeout: 5_000 }, () => {
  const hyper = { gamma: 1, lambda: 1, klCoef: 0 };
  const t = ppoTargets(
    [
      { reward: 1, oldLogprobs: [-1, -1], refLogprobs: [-1, -2], oldValues: [0.5, 0.5] },
      { reward: 0, oldLogprobs: [-1], refLogprobs: [-1], oldValues: [0.5] },
    ],
    hyper,
  );
  // raw advantages [.5, .5] and [−.5]: mean 1/6, population std √(2/9)
  const s = Math.sqrt(2 / 9);
  close(t[0].advantages, [(0.5 - 1 / 6) / s, (0.5 - 1 / 6) / s], 1e-7);
  close(t[1].advantages, [(-0.5 - 1 / 6) / s], 1e-7);
  close(t[0].returns, [1, 1]);
  close(t[1].returns, [0]);
  close([t[0].refKl, t[1].refKl], [0.5, 0]);
  // with β = 1 the k1 of the second token (1) is subtracted from the return of both tokens
  close(ppoTargets([{ reward: 1, oldLogprobs: [-1, -1], refLogprobs: [-1, -2], oldValues: [0, 0] }], { ...hyper, klCoef: 1 })[0].returns, [0, 0]);
});
