import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ACTION_NAMES } from '../../core/actions';
import { PpoUpdateHyper } from '../../core/ppo-schema';
import { parseResponse } from '../../core/parse-response';
import { initBackend } from '../../model/backend';
import { DecodingMasks, maskReplays } from '../../model/decoding-masks';
import { generate, type GenerateOptions } from '../../model/generate';
import { chosenTokens, PpoTrainer, scoreResponses, type PpoSample } from '../../model/ppo-update';
import { responseProgram } from '../../model/action-grammar';
import { Qwen2Model } from '../../model/qwen2';
import { ResponseAutomaton } from '../../model/response-automaton';
import { tinyConfig, tinyTokenizer } from './fixtures';

before(async () => { await initBackend(); });

const prompts = ['Research problem: forecast co2.\nRespond with Thought, Action, Action Input.', 'Observation: train.py printed validation mae 1.23', 'Observation: EnvError: no such file'];

test('constrained decoding ends the turn with end-of-turn once the Action Input closes, inside maxNewTokens', { timeout: 120_000 }, () => {
  const tok = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tok.vocabSize }), 3);
  const options: GenerateOptions = { seed: 4, temperature: 1, maxNewTokens: 120, decoding: 'constrained', constraint: { maxThoughtTokens: 10, maxInputTokens: 30 } };
  const gens = generate(model, tok, prompts, options);
  const masks = new DecodingMasks(tok, maskReplays(options, 1)[0]!);
  for (const g of gens) {
    assert.equal(g.stop, 'eos', JSON.stringify(g.text));
    assert.ok(parseResponse(g.text).ok, g.text);
    const chosen = chosenTokens(g, tok.eosId);
    assert.ok(chosen.length <= options.maxNewTokens!, `${chosen.length} tokens with end-of-turn`);
    assert.equal(chosen.at(-1), tok.eosId);
    const allowed = masks.allowed(chosen);
    // before the object closes end-of-turn is never allowed; after, nothing else is
    assert.deepEqual([...allowed.at(-1)!], [tok.eosId]);
    assert.ok(allowed.slice(0, -1).every((ids) => !ids.includes(tok.eosId)));
  }
  // the tightest budget: the shortest response (one byte a token at worst) and end-of-turn
  const automaton = new ResponseAutomaton(responseProgram(ACTION_NAMES));
  const shortest = automaton.dist(automaton.start);
  for (const g of generate(model, tok, prompts, { ...options, maxNewTokens: shortest + 1 })) {
    assert.equal(g.stop, 'eos');
    assert.ok(g.tokens.length + 1 <= shortest + 1);
  }
  model.dispose();
});

test('under constrained decoding the update\'s first-epoch log-probs are the rollout\'s: importance ratio 1 (not so without the masks)', { timeout: 120_000 }, async () => {
  const tok = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tok.vocabSize }), 8);
  const options: GenerateOptions = { seed: 2, temperature: 1, maxNewTokens: 120, decoding: 'constrained', constraint: { maxThoughtTokens: 12, maxInputTokens: 40 } };
  const gens = generate(model, tok, prompts, options);
  const masks = new DecodingMasks(tok, maskReplays(options, 1)[0]!);
  const pairs = gens.map((g, i) => ({ prompt: tok.encode(prompts[i]), continuation: chosenTokens(g, tok.eosId) }));
  // the rollout's log-probs, end-of-turn included: alone in its mask, probability 1
  const rollout = gens.map((g) => [...g.logprobs, 0]);
  const scored = scoreResponses(model, pairs, masks);
  rollout.forEach((row, i) => row.forEach((lp, k) => assert.ok(Math.abs(lp - scored.logprobs[i][k]) < 1e-3, `row ${i} token ${k}: rollout ${lp}, update ${scored.logprobs[i][k]}`)));
  const samples: PpoSample[] = pairs.map((p, i) => ({ ...p, reward: i % 2, oldLogprobs: rollout[i], refLogprobs: rollout[i], oldValues: scored.values[i] }));
  // one epoch, one minibatch: the metrics are measured in the forward pass before the only step
  const hyper = PpoUpdateHyper.parse({ epochs: 1, minibatchSize: 64, lrActor: 1e-9, lrCritic: 1e-9 });
  const masked = new PpoTrainer(model, hyper, masks);
  const m = await masked.update(samples, 0);
  assert.ok(m.approxKl < 1e-6, `approx KL ${m.approxKl}`);
  assert.equal(m.clipFraction, 0);
  assert.ok(m.entropy >= 0 && m.entropy < Math.log(tok.vocabSize), `entropy ${m.entropy}`);
  masked.dispose();
  const unmasked = new PpoTrainer(model, hyper);
  const u = await unmasked.update(samples, 0);
  assert.ok(u.approxKl > 0.1 && u.clipFraction > 0.5, `full-vocabulary scoring: approx KL ${u.approxKl}, clip fraction ${u.clipFraction}`);
  unmasked.dispose();
  model.dispose();
});
