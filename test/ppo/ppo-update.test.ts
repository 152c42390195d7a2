import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { clipped, k3, mean, policyLoss, ppoTargets, valueLoss } from '../../core/ppo';
import { PpoUpdateHyper } from '../../core/ppo-schema';
import { initBackend } from '../../model/backend';
import { continuationLogProbs, generate } from '../../model/generate';
import { chosenTokens, PpoTrainer, scoreResponses, type PpoSample } from '../../model/ppo-update';
import { Qwen2Model } from '../../model/qwen2';
import { tinyConfig, tinyTokenizer } from '../model/fixtures';

before(async () => {
  await initBackend();
});

const hyper = (over: Partial<PpoUpdateHyper> = {}): PpoUpdateHyper => PpoUpdateHyper.parse({ epochs: 1, minibatchSize: 64, ...over });

test('the tfjs losses equal core/ppo.ts token by token (ratios off 1, clipping engaged)', { timeout: 60_000 }, async () => {
  const tok = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tok.vocabSize }), 1);
  const pairs = [
    { prompt: tok.encode('Thought: list the files'), continuation: tok.encode(' Action: List Files') },
    { prompt: tok.encode('Observation: 0.81'), continuation: tok.encode(' Action: Final Answer') },
  ];
  const now = scoreResponses(model, pairs);
  // old terms shifted so that some ratios leave [0.8, 1.2] and some value moves are clipped
  const samples: PpoSample[] = pairs.map((p, b) => ({
    ...p,
    reward: b,
    oldLogprobs: now.logprobs[b].map((lp, t) => lp + (t % 3 === 0 ? 0.5 : t % 3 === 1 ? -0.05 : -0.4)),
    refLogprobs: now.logprobs[b].map((lp) => lp - 0.1),
    oldValues: now.values[b].map((v, t) => v + (t % 2 ? 0.3 : -0.05)),
  }));
  const h = hyper({ klCoef: 0.01, lrActor: 1e-9, lrCritic: 1e-9 });
  const targets = ppoTargets(samples, h);
  const tokens = samples.flatMap((s, b) =>
    s.oldLogprobs.map((oldLogprob, t) => ({ logprob: now.logprobs[b][t], oldLogprob, advantage: targets[b].advantages[t], value: now.values[b][t], oldValue: s.oldValues[t], ret: targets[b].returns[t] })),
  );
  const trainer = new PpoTrainer(model, h);
  const m = await trainer.update(samples, 0);
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-4, `${what}: tfjs ${a} vs core ${b}`);
  near(m.policyLoss, mean(tokens.map((t) => policyLoss(t, h.clipEps))), 'policy loss');
  near(m.valueLoss, mean(tokens.map((t) => valueLoss(t, h.valueClipEps))), 'value loss');
  near(m.approxKl, mean(tokens.map((t) => k3(t.logprob, t.oldLogprob))), 'approx KL');
  near(m.clipFraction, mean(tokens.map((t) => (clipped(t, h.clipEps) ? 1 : 0))), 'clip fraction');
  near(m.refKl, mean(samples.map((s) => mean(s.oldLogprobs.map((o, t) => o - s.refLogprobs[t])))), 'KL to the reference');
  assert.ok(m.clipFraction > 0.3 && m.clipFraction < 0.9, `clip fraction ${m.clipFraction}`);
  assert.ok(m.entropy > 0 && m.entropy <= Math.log(tok.vocabSize) + 1e-4, `entropy ${m.entropy}`);
  assert.equal(m.tokens, tokens.length);
  assert.equal(m.steps, 1);
  trainer.dispose();
  model.dispose();
});

test('the critic loss moves only the value head; optimizer moments round-trip through state/load', { timeout: 60_000 }, async () => {
  const tok = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tok.vocabSize }), 2);
  const pairs = [{ prompt: tok.encode('Thought: run it'), continuation: tok.encode(' Action: Execute Script') }];
  const now = scoreResponses(model, pairs);
  // one sample, one token's worth of advantage signal removed: normalised advantages of a single constant row are 0
  const samples: PpoSample[] = [{ ...pairs[0], continuation: pairs[0].continuation.slice(0, 1), reward: 1, oldLogprobs: now.logprobs[0].slice(0, 1), refLogprobs: now.logprobs[0].slice(0, 1), oldValues: now.values[0].slice(0, 1) }];
  const before = new Map([...model.params].map(([n, v]) => [n, Float32Array.from(v.dataSync() as Float32Array)]));
  const trainer = new PpoTrainer(model, hyper({ lrActor: 1e-2, lrCritic: 1e-2 }));
  await trainer.update(samples, 0);
  for (const [name, v] of model.params) {
    const changed = (v.dataSync() as Float32Array).some((x, i) => x !== before.get(name)![i]);
    assert.equal(changed, name.startsWith('value_head.'), `${name} ${changed ? 'changed' : 'unchanged'}`);
  }
  const saved = trainer.state();
  assert.ok([...saved.keys()].some((k) => k === 'm.value_head.weight') && [...saved.keys()].some((k) => k === 'v.lm_head.weight'), [...saved.keys()].join());
  const again = new PpoTrainer(model, trainer.hyper);
  again.load(saved, trainer.actor.step);
  assert.deepEqual([...again.state()].map(([k, t]) => [k, Array.from(t.data)]), [...saved].map(([k, t]) => [k, Array.from(t.data)]));
  assert.equal(again.critic.step, 1);
  again.dispose();
  trainer.dispose();
  model.dispose();
});

test('learning: with reward 1 for a response whose first token is a multiple of 4, mean reward rises under real PPO steps', { timeout: 300_000 }, async () => {
  const tok = tinyTokenizer();
  const config = tinyConfig({ vocab_size: tok.vocabSize });
  const model = Qwen2Model.init(config, 7);
  const ref = Qwen2Model.init(config, 7);
  const prompts = ['Thought: list the files\nAction:', 'Observation: the score is 0.8\nAction:'];
  const batch = Array.from({ length: 32 }, (_, i) => prompts[i % prompts.length]);
  const good = (id: number) => id % 4 === 0;
  /** The policy's expected reward: its probability of a good first token, averaged over the prompts (no sampling noise). */
  const expectedReward = () =>
    mean(
      prompts.map((p) => {
        const ids = tok.encode(p);
        const logits = tf.tidy(() => model.logits(model.forward({ ids: [ids], segments: [ids.map(() => 1)], positions: [ids.map((_, i) => i)] }).hidden).arraySync() as number[][][]);
        const row = logits[0][ids.length - 1].slice(0, tok.vocabSize);
        const max = Math.max(...row);
        const z = row.reduce((a, x) => a + Math.exp(x - max), 0);
        return row.reduce((a, x, i) => a + (good(i) ? Math.exp(x - max) / z : 0), 0);
      }),
    );
  const trainer = new PpoTrainer(model, hyper({ epochs: 2, minibatchSize: 8, lrActor: 5e-3, lrCritic: 1e-2 }));
  const sampled: number[] = [], expected: number[] = [expectedReward()];
  for (let it = 0; it < 12; it++) {
    const gens = generate(model, tok, batch, { maxNewTokens: 3, temperature: 1, seed: 100 + it, stopAtActionInput: false });
    const pairs = gens.map((g, i) => ({ prompt: tok.encode(batch[i]), continuation: chosenTokens(g, tok.eosId) }));
    const old = scoreResponses(model, pairs);
    const refLp = continuationLogProbs(ref, pairs);
    const samples = pairs.map((p, i) => ({ ...p, reward: good(p.continuation[0]) ? 1 : 0, oldLogprobs: old.logprobs[i], refLogprobs: refLp[i], oldValues: old.values[i] }));
    sampled.push(mean(samples.map((s) => s.reward)));
    const m = await trainer.update(samples, it);
    assert.ok(Number.isFinite(m.policyLoss) && m.steps === 8 && m.gradNormActor > 0 && m.approxKl > 0, JSON.stringify(m));
    expected.push(expectedReward());
  }
  console.log(`sampled mean reward per iteration: ${sampled.map((r) => r.toFixed(2)).join(' ')}; expected: ${expected.map((r) => r.toFixed(2)).join(' ')}`);
  assert.ok(expected[0] < 0.35, `starts near chance (1/4): ${expected[0]}`);
  assert.ok(expected.at(-1)! > 0.6, `the policy's expected reward rose to ${expected.at(-1)}`);
  const first = mean(sampled.slice(0, 3)), last = mean(sampled.slice(-3));
  assert.ok(last > first + 0.2, `sampled mean reward rose: first three ${first.toFixed(2)}, last three ${last.toFixed(2)}`);
  trainer.dispose();
  model.dispose();
  ref.dispose();
});
