import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { computeReward, RewardInput, sigmoid } from '../../core/reward';

const σ = (x: number) => 1 / (1 + Math.exp(-x));

const cases: Array<{ name: string; input: RewardInput; reward: number; kind: string }> = [
  { name: 'invalid action', input: { action_kind: 'invalid' }, reward: 0, kind: 'invalid' },
  { name: 'failed execution', input: { action_kind: 'error' }, reward: 0, kind: 'error' },
  { name: 'valid non-edit action', input: { action_kind: 'non_edit' }, reward: 0.5, kind: 'non_edit' },
  { name: 'corner case (time/memory limit)', input: { action_kind: 'corner_case' }, reward: 0.5, kind: 'corner_case' },
  // higher is better: accuracy 0.80 → 0.90 best; α = 100/0.10 = 1000
  { name: 'higher-is-better improvement', input: { action_kind: 'edit', m_prev: 0.8, m_next: 0.801, m_init: 0.8, m_best: 0.9 }, reward: σ(1), kind: 'edit' },
  { name: 'higher-is-better regression', input: { action_kind: 'edit', m_prev: 0.85, m_next: 0.848, m_init: 0.8, m_best: 0.9 }, reward: σ(-2), kind: 'edit' },
  { name: 'no change', input: { action_kind: 'edit', m_prev: 0.85, m_next: 0.85, m_init: 0.8, m_best: 0.9 }, reward: 0.5, kind: 'edit' },
  // lower is better: RMSE 10 → 6 best; α = 100/(−4) = −25
  { name: 'lower-is-better improvement', input: { action_kind: 'edit', m_prev: 10, m_next: 9.96, m_init: 10, m_best: 6 }, reward: σ(1), kind: 'edit' },
  { name: 'lower-is-better regression', input: { action_kind: 'edit', m_prev: 8, m_next: 8.2, m_init: 10, m_best: 6 }, reward: σ(-5), kind: 'edit' },
  { name: 'edit beyond the best known metric saturates', input: { action_kind: 'edit', m_prev: 10, m_next: 2, m_init: 10, m_best: 6 }, reward: σ(200), kind: 'edit' },
  // degenerate inputs (module comment)
  { name: 'edit whose script produced no metric', input: { action_kind: 'edit', m_prev: 0.8, m_next: null, m_init: 0.8, m_best: 0.9 }, reward: 0, kind: 'error' },
  { name: 'edit with NaN metric', input: { action_kind: 'edit', m_prev: 0.8, m_next: NaN, m_init: 0.8, m_best: 0.9 }, reward: 0, kind: 'error' },
  { name: 'edit with infinite metric', input: { action_kind: 'edit', m_prev: 0.8, m_next: Infinity, m_init: 0.8, m_best: 0.9 }, reward: 0, kind: 'error' },
  { name: 'broken workspace before the edit: measured from m_init', input: { action_kind: 'edit', m_prev: null, m_next: 0.801, m_init: 0.8, m_best: 0.9 }, reward: σ(1), kind: 'edit' },
  { name: 'm_best == m_init without direction: neutral', input: { action_kind: 'edit', m_prev: 0.8, m_next: 0.9, m_init: 0.8, m_best: 0.8 }, reward: 0.5, kind: 'edit' },
  // fallback scale 1% of |m_init| = 0.008 → α = ±12500
  { name: 'm_best == m_init, higher is better', input: { action_kind: 'edit', m_prev: 0.8, m_next: 0.80008, m_init: 0.8, m_best: 0.8, higher_is_better: true }, reward: σ(1), kind: 'edit' },
  { name: 'm_best == m_init, lower is better', input: { action_kind: 'edit', m_prev: 0.8, m_next: 0.80008, m_init: 0.8, m_best: 0.8, higher_is_better: false }, reward: σ(-1), kind: 'edit' },
  { name: 'm_init == 0 == m_best: fallback scale floor 1e-6', input: { action_kind: 'edit', m_prev: 0, m_next: 1e-6, m_init: 0, m_best: 0, higher_is_better: true }, reward: σ(100), kind: 'edit' },
  { name: 'non-finite m_best without direction: neutral', input: { action_kind: 'edit', m_prev: 0.8, m_next: 0.9, m_init: 0.8, m_best: Infinity }, reward: 0.5, kind: 'edit' },
  { name: 'null m_init and m_prev: neutral', input: { action_kind: 'edit', m_prev: null, m_next: 0.9, m_init: null, m_best: 0.95, higher_is_better: true }, reward: 0.5, kind: 'edit' },
  { name: 'subnormal gap (100/gap overflows): neutral', input: { action_kind: 'edit', m_prev: 0, m_next: 0, m_init: 0, m_best: 1e-310 }, reward: 0.5, kind: 'edit' },
  { name: 'overflowing metric change saturates, not NaN', input: { action_kind: 'edit', m_prev: -1e308, m_next: 1e308, m_init: 0, m_best: 1 }, reward: 1, kind: 'edit' },
];

for (const c of cases) {
  test(`reward: ${c.name}`, () => {
    const r = computeReward(c.input);
    assert.equal(r.kind, c.kind);
    assert.ok(Math.abs(r.reward - c.reward) < 1e-12, `reward ${r.reward} != expected ${c.reward}`);
    assert.ok(r.reward >= 0 && r.reward <= 1);
  });
}

test('reward: sigmoid is stable at the extremes', () => {
  assert.equal(sigmoid(Infinity), 1);
  assert.equal(sigmoid(-Infinity), 0);
  assert.equal(sigmoid(-1000), 0);
  assert.ok(Math.abs(sigmoid(-3) - σ(-3)) < 1e-15);
});

test('reward: bad input is rejected with the field named', () => {
  assert.throws(() => computeReward({ action_kind: 'edt' as 'edit' }), /action_kind/);
  assert.throws(() => computeReward({ action_kind: 'edit', m_prev: 1, m_next: 2, m_init: 1 }), /m_best/);
  assert.throws(() => computeReward({ action_kind: 'edit', m_prev: '1' as unknown as number, m_next: 2, m_init: 1, m_best: 3 }), /m_prev/);
  assert.throws(() => computeReward({ action_kind: 'non_edit', extra: 1 } as RewardInput), /extra/);
});

const cli = (input: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../cli/main.ts'), 'reward', '--input', input], { encoding: 'utf8' });

test('reward CLI prints {reward, kind}', () => {
  const out = cli(JSON.stringify({ action_kind: 'edit', m_prev: 10, m_next: 9.96, m_init: 10, m_best: 6 }));
  assert.equal(out.status, 0, out.stderr);
  const printed = JSON.parse(out.stdout) as { reward: number; kind: string };
  assert.deepEqual(Object.keys(printed).sort(), ['kind', 'reward']);
  assert.equal(printed.kind, 'edit');
  assert.ok(Math.abs(printed.reward - σ(1)) < 1e-12);
});

test('reward CLI rejects bad JSON and bad fields with exit code 2', () => {
  const badJson = cli('{action_kind');
  assert.equal(badJson.status, 2);
  assert.match(badJson.stderr, /not valid JSON/);
  const badField = cli('{"action_kind":"edit","m_prev":1,"m_next":2,"m_init":1}');
  assert.equal(badField.status, 2);
  assert.match(badField.stderr, /m_best/);
});
