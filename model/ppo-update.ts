import * as tf from '@tensorflow/tfjs';
import { mean, ppoTargets } from '../core/ppo';
import type { PpoUpdateHyper, PpoUpdateMetrics } from '../core/ppo-schema';
import { rng } from './random';
import type { Generation, TokenPair } from './generate';
import type { DecodingMasks } from './decoding-masks';
import { oneHotFloat, pickRows } from './layers';
import { accumulateGrads, AdamW, clipByGlobalNorm } from './optim';
import type { Qwen2Model } from './qwen2';
import type { NamedTensor } from './safetensors';
import { shuffled } from '../core/rng';
import { samePromptGroups, sharedPromptBatch } from './shared-prompt-batch';

/** One sampled action: token ids, the step's reward and the per-token terms PPO needs from before the update. */
export interface PpoSample extends TokenPair {
  reward: number;
  oldLogprobs: number[];
  refLogprobs: number[];
  oldValues: number[];
}

const isCritic = (name: string) => name.startsWith('value_head.');

/** Identity whose gradient is zero (tfjs has no stop-gradient op). */
const stopGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: (args[0] as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
})) as (x: tf.Tensor) => tf.Tensor;

/**
 * Log-probs of the response tokens, their entropies and values, flat [N] in row-major response order, from one
 * forward pass in which pairs with the same prompt share its encoding (model/shared-prompt-batch.ts). Only the
 * response positions go through the output head (the prompt's logits are never needed).
 * With `masks` the softmax is over the tokens the constraint allowed at each position: the distribution the
 * rollout sampled from, so old, new and reference log-probs (and the entropy) are all of the acting policy.
 * The value head reads the hidden states through a stop-gradient: the critic loss trains the value head only.
 */
function responseTerms(model: Qwen2Model, pairs: TokenPair[], masks?: DecodingMasks): { logprobs: tf.Tensor; entropy: tf.Tensor; values: tf.Tensor } {
  const batch = sharedPromptBatch(pairs);
  const { hidden } = model.forward(batch.input);
  const [B, T, H] = hidden.shape as [number, number, number];
  const h = pickRows(hidden.reshape([B * T, H]), batch.at).reshape([1, batch.at.length, H]);
  const V = model.config.vocab_size;
  let logits = model.logits(h).reshape([batch.at.length, V]);
  if (masks) logits = logits.add(masks.bias(pairs, V));
  const logp = tf.logSoftmax(logits, -1);
  const targets = tf.tensor1d(batch.targets, 'int32');
  return {
    logprobs: logp.mul(oneHotFloat(targets, V)).sum(-1),
    entropy: logp.exp().mul(logp).sum(-1).neg(),
    values: model.values(stopGradient(h)).reshape([batch.at.length]),
  };
}

/** Splits flat per-token numbers into one array per pair. */
function perPair(flat: number[], pairs: TokenPair[]): number[][] {
  let at = 0;
  return pairs.map((p) => flat.slice(at, (at += p.continuation.length)));
}

/** The tokens the policy chose: a generation that stopped at end-of-text chose that token too, and learns from it. */
export function chosenTokens(g: Generation, eosId: number): number[] {
  return g.stop === 'eos' ? [...g.tokens, eosId] : g.tokens;
}

/**
 * Per-token log-probs and values of given responses under `model` (no gradient): the old policy's terms, and with
 * a reference model the KL reference's log-probs. `masks`: how the responses were decoded, when constrained.
 */
export function scoreResponses(model: Qwen2Model, pairs: TokenPair[], masks?: DecodingMasks): { logprobs: number[][]; values: number[][] } {
  const [lp, v] = tf.tidy(() => {
    const r = responseTerms(model, pairs, masks);
    return [r.logprobs.dataSync() as Float32Array, r.values.dataSync() as Float32Array];
  });
  return { logprobs: perPair(Array.from(lp), pairs), values: perPair(Array.from(v), pairs) };
}

/**
 * PPO on a policy with a value head: AdamW with its own learning rate for the actor (the language model) and
 * for the critic (the value head), each clipped to `clipNorm` on its own. The moments persist across updates
 * (`state` / `load`), so a run's iterations continue one optimisation.
 */
export class PpoTrainer {
  readonly actor: AdamW;
  readonly critic: AdamW;

  /** `masks`: the samples were decoded under constrained decoding, and are scored under the same masks. */
  constructor(readonly model: Qwen2Model, readonly hyper: PpoUpdateHyper, private readonly masks?: DecodingMasks) {
    const opts = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: hyper.weightDecay };
    this.actor = new AdamW(opts);
    this.critic = new AdamW(opts);
  }

  /**
   * `epochs` passes over the samples in shuffled minibatches (order fixed by `seed`; samples with the same prompt
   * are shuffled as one). Gradient norms (before clipping) are means over all steps; the other metrics token means
   * over the last epoch, each minibatch measured just before its step. Awaiting `afterStep` (after each step) and
   * `afterPass` (after each forward/backward pass) lets heartbeats and cancellation through.
   */
  async update(samples: PpoSample[], seed: number, hooks: { afterStep?: (step: number) => Promise<void>; afterPass?: () => Promise<void> } = {}): Promise<PpoUpdateMetrics> {
    const h = this.hyper;
    const targets = ppoTargets(samples, h);
    const acc = { policyLoss: 0, valueLoss: 0, entropy: 0, approxKl: 0, clipped: 0, tokens: 0 };
    const norms = { actor: 0, critic: 0 };
    let steps = 0;
    const next = rng(seed);
    // a state's actions stay together in a minibatch, so its prompt is encoded once (sharedPromptBatch)
    const groups = samePromptGroups(samples);
    for (let epoch = 0; epoch < h.epochs; epoch++) {
      const order = shuffled(groups, next).flat();
      const last = epoch === h.epochs - 1;
      for (let start = 0; start < order.length; start += h.minibatchSize) {
        const idx = order.slice(start, start + h.minibatchSize);
        const m = await this.step(idx.map((i) => ({ sample: samples[i], advantages: targets[i].advantages, returns: targets[i].returns })), hooks.afterPass);
        norms.actor += m.gradNormActor;
        norms.critic += m.gradNormCritic;
        if (last) {
          for (const k of ['policyLoss', 'valueLoss', 'entropy', 'approxKl', 'clipped'] as const) acc[k] += m[k] * m.tokens;
          acc.tokens += m.tokens;
        }
        steps++;
        await hooks.afterStep?.(steps);
      }
    }
    const per = (x: number) => x / Math.max(1, acc.tokens);
    return {
      approxKl: per(acc.approxKl),
      refKl: mean(targets.map((t) => t.refKl)),
      clipFraction: per(acc.clipped),
      policyLoss: per(acc.policyLoss),
      valueLoss: per(acc.valueLoss),
      entropy: per(acc.entropy),
      gradNormActor: norms.actor / Math.max(1, steps),
      gradNormCritic: norms.critic / Math.max(1, steps),
      steps,
      tokens: acc.tokens,
    };
  }

  /**
   * One gradient step on a minibatch; the loss terms are token means over the minibatch (core/ppo.ts gives the
   * same per token). The forward and backward passes go one prompt group (one packed row) at a time, each pass's
   * terms weighted by its share of the minibatch's tokens and the gradients summed: activation memory of one
   * row, and a pass of a 135M model on 2 cores (about half a minute) stays well inside an activity heartbeat.
   */
  private async step(rows: { sample: PpoSample; advantages: number[]; returns: number[] }[], afterPass?: () => Promise<void>) {
    const tokens = rows.reduce((n, r) => n + r.sample.continuation.length, 0);
    const out = { policyLoss: 0, valueLoss: 0, entropy: 0, approxKl: 0, clipped: 0 };
    const grads = new Map<string, tf.Tensor>();
    for (const group of samePromptGroups(rows.map((r) => r.sample))) {
      const pass = this.pass(group.map((i) => rows[i]), tokens);
      for (const k of Object.keys(out) as (keyof typeof out)[]) out[k] += pass.terms[k];
      accumulateGrads(grads, pass.grads);
      await afterPass?.();
    }
    const h = this.hyper;
    const actorGrads = new Map<string, tf.Tensor>(), criticGrads = new Map<string, tf.Tensor>();
    for (const [name, g] of grads) (isCritic(name) ? criticGrads : actorGrads).set(name, g);
    const gradNormActor = clipByGlobalNorm(actorGrads, h.clipNorm);
    const gradNormCritic = clipByGlobalNorm(criticGrads, h.clipNorm);
    this.actor.apply(this.model.params, actorGrads, h.lrActor);
    this.critic.apply(this.model.params, criticGrads, h.lrCritic);
    tf.dispose([...actorGrads.values(), ...criticGrads.values()]);
    return { ...out, tokens, gradNormActor, gradNormCritic };
  }

  /** Forward and backward of some of a minibatch's rows: loss terms as parts of the minibatch's token means (÷ `tokens`), gradients by parameter name. */
  private pass(rows: { sample: PpoSample; advantages: number[]; returns: number[] }[], tokens: number) {
    const h = this.hyper;
    const pairs = rows.map((r) => r.sample);
    const flat = (f: (r: (typeof rows)[number]) => number[]) => tf.tensor1d(rows.flatMap(f));
    const host = tf.tidy(() => ({
      oldLp: flat((r) => r.sample.oldLogprobs),
      oldV: flat((r) => r.sample.oldValues),
      adv: flat((r) => r.advantages),
      ret: flat((r) => r.returns),
    }));
    const terms: Record<'policyLoss' | 'valueLoss' | 'entropy' | 'approxKl' | 'clipped', tf.Scalar> = {} as never;
    const tokenMean = (x: tf.Tensor) => x.sum().div(tokens) as tf.Scalar;
    const vars = [...this.model.params.values()];
    const { value, grads } = tf.variableGrads(() => {
      const r = responseTerms(this.model, pairs, this.masks);
      const logRatio = r.logprobs.sub(host.oldLp);
      const ratio = logRatio.exp();
      const pg = tf.maximum(host.adv.neg().mul(ratio), host.adv.neg().mul(ratio.clipByValue(1 - h.clipEps, 1 + h.clipEps)));
      const vClipped = host.oldV.add(r.values.sub(host.oldV).clipByValue(-h.valueClipEps, h.valueClipEps));
      const vf = tf.maximum(r.values.sub(host.ret).square(), vClipped.sub(host.ret).square()).mul(0.5);
      terms.policyLoss = tf.keep(tokenMean(pg));
      terms.valueLoss = tf.keep(tokenMean(vf));
      terms.entropy = tf.keep(tokenMean(r.entropy));
      terms.approxKl = tf.keep(tokenMean(ratio.sub(1).sub(logRatio)));
      terms.clipped = tf.keep(tokenMean(ratio.sub(1).abs().greater(h.clipEps).cast('float32')));
      // the value head sees a stop-gradient, so the critic term moves the value head only and the rest the actor
      return terms.policyLoss.add(terms.valueLoss).sub(terms.entropy.mul(h.entropyCoef)) as tf.Scalar;
    }, vars);
    value.dispose();
    const named = new Map<string, tf.Tensor>();
    for (const [name, v] of this.model.params) if (grads[v.name]) named.set(name, grads[v.name]);
    const out = Object.fromEntries(Object.entries(terms).map(([k, t]) => [k, t.dataSync()[0]])) as Record<keyof typeof terms, number>;
    tf.dispose([...Object.values(terms), ...Object.values(host)]);
    return { terms: out, grads: named };
  }

  /** Both optimizers' moments in one map (their parameter names are disjoint). */
  state(): Map<string, NamedTensor> {
    return new Map([...this.actor.state(), ...this.critic.state()]);
  }

  load(state: Map<string, NamedTensor>, step: number): void {
    const part = (critic: boolean) => new Map([...state].filter(([k]) => isCritic(k.slice(2)) === critic));
    this.actor.load(part(false), step);
    this.critic.load(part(true), step);
  }

  dispose(): void {
    this.actor.dispose();
    this.critic.dispose();
  }
}
