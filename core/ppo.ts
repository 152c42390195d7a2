/**
 * Step-wise PPO math (ML-Agent §3.2), pure and workflow-safe; `model/ppo-update.ts` computes the same losses
 * with tfjs tensors for the gradient, and its tests check it against these functions.
 *
 * One sample = one action (a response of T tokens) taken from one pool state; the episode ends after it, so
 * the value after the last token is 0. Token t's reward is the KL penalty, plus the step's reward (from
 * `core/reward.ts`) on the final token:
 *
 *   r_t = −β·k1_t + [t = T−1]·R,   k1_t = log π_old(y_t) − log π_ref(y_t)
 *
 * KL estimator: k1, in the reward. Under samples from π_old it is unbiased for KL(π_old‖π_ref), and its sum
 * over the response is the sequence log-ratio, so the shaped return is exactly the KL-regularised objective
 * R − β·log(π_old(y)/π_ref(y)). (k3 = e^{−k1} − 1 + k1 is non-negative and lower-variance, but biased as a
 * reward; we report it as the KL between the new and old policy, `approxKl`, where only its size matters.)
 *
 * Losses are means over all response tokens of a minibatch (token-level, so long responses weigh more).
 */

/** What the advantages and value targets depend on. */
export interface ReturnHyper {
  gamma: number;
  lambda: number;
  klCoef: number;
}

/** Per-token rewards of one response: −β·(old − ref) everywhere, plus the step reward on the last token. */
export function shapedRewards(p: { reward: number; oldLogprobs: number[]; refLogprobs: number[]; klCoef: number }): number[] {
  const T = p.oldLogprobs.length;
  if (T === 0) throw new Error('a PPO sample needs at least one response token');
  if (p.refLogprobs.length !== T) throw new Error(`ref log-probs: ${p.refLogprobs.length} tokens, old: ${T}`);
  return p.oldLogprobs.map((old, t) => -p.klCoef * (old - p.refLogprobs[t]) + (t === T - 1 ? p.reward : 0));
}

/**
 * Generalised advantage estimation over one response: δ_t = r_t + γ·V_{t+1} − V_t (V_T = 0: the step ends
 * the sample), A_t = δ_t + γλ·A_{t+1}; returns (the value targets) are A_t + V_t.
 */
export function gae(p: { rewards: number[]; values: number[]; gamma: number; lambda: number }): { advantages: number[]; returns: number[] } {
  const T = p.rewards.length;
  if (p.values.length !== T) throw new Error(`values: ${p.values.length} tokens, rewards: ${T}`);
  const advantages = new Array<number>(T);
  let next = 0, nextValue = 0;
  for (let t = T - 1; t >= 0; t--) {
    const delta = p.rewards[t] + p.gamma * nextValue - p.values[t];
    next = delta + p.gamma * p.lambda * next;
    advantages[t] = next;
    nextValue = p.values[t];
  }
  return { advantages, returns: advantages.map((a, t) => a + p.values[t]) };
}

/** Whitens advantages over every token of the batch (population std, ε 1e-8), so the step size is reward-scale free. */
export function normalizeAdvantages(rows: number[][]): number[][] {
  const all = rows.flat();
  if (all.length === 0) return rows.map(() => []);
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
  return rows.map((r) => r.map((a) => (a - mean) / (std + 1e-8)));
}

export interface PpoSampleTargets {
  advantages: number[];
  returns: number[];
  /** Mean k1 over the response: KL(π_old‖π_ref) per token. */
  refKl: number;
}

/** Advantages (normalised over the batch) and value targets of every sample of a batch. */
export function ppoTargets(
  samples: { reward: number; oldLogprobs: number[]; refLogprobs: number[]; oldValues: number[] }[],
  hyper: ReturnHyper,
): PpoSampleTargets[] {
  const raw = samples.map((s) => {
    const rewards = shapedRewards({ ...s, klCoef: hyper.klCoef });
    return { ...gae({ rewards, values: s.oldValues, gamma: hyper.gamma, lambda: hyper.lambda }), refKl: mean(s.oldLogprobs.map((o, t) => o - s.refLogprobs[t])) };
  });
  const normalized = normalizeAdvantages(raw.map((r) => r.advantages));
  return raw.map((r, i) => ({ ...r, advantages: normalized[i] }));
}

/** One token's terms, the scalar reference for the tensor implementation. */
export interface TokenTerms {
  logprob: number;
  oldLogprob: number;
  advantage: number;
  value: number;
  oldValue: number;
  ret: number;
}

/** Clipped surrogate, to minimise: max(−A·ρ, −A·clip(ρ, 1−ε, 1+ε)), ρ = π/π_old. */
export function policyLoss(t: Pick<TokenTerms, 'logprob' | 'oldLogprob' | 'advantage'>, clipEps: number): number {
  const ratio = Math.exp(t.logprob - t.oldLogprob);
  return Math.max(-t.advantage * ratio, -t.advantage * clamp(ratio, 1 - clipEps, 1 + clipEps));
}

/** PPO's clipped value loss: ½·max((V − G)², (V_old + clip(V − V_old, ±ε) − G)²). */
export function valueLoss(t: Pick<TokenTerms, 'value' | 'oldValue' | 'ret'>, valueClipEps: number): number {
  const clipped = t.oldValue + clamp(t.value - t.oldValue, -valueClipEps, valueClipEps);
  return 0.5 * Math.max((t.value - t.ret) ** 2, (clipped - t.ret) ** 2);
}

/** k3 estimate of KL(π_old‖π) from one token: e^{log π − log π_old} − 1 − (log π − log π_old) ≥ 0. */
export function k3(logprob: number, oldLogprob: number): number {
  const r = logprob - oldLogprob;
  return Math.exp(r) - 1 - r;
}

/** Whether the token's ratio left the trust region (the clip fraction's numerator). */
export function clipped(t: Pick<TokenTerms, 'logprob' | 'oldLogprob'>, clipEps: number): boolean {
  return Math.abs(Math.exp(t.logprob - t.oldLogprob) - 1) > clipEps;
}

/** Entropy of a next-token distribution given as log-probabilities. */
export function entropy(logprobs: number[]): number {
  return -logprobs.reduce((a, lp) => a + Math.exp(lp) * lp, 0);
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
