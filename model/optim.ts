import * as tf from '@tensorflow/tfjs';
import { ownedVariable } from './variables';
import { NamedTensor } from './safetensors';

/** Linear warm-up to the peak, then cosine decay to `minRatio`·peak at the last step. */
export function cosineLr(params: { step: number; totalSteps: number; warmupSteps: number; peak: number; minRatio?: number }): number {
  const { step, totalSteps, warmupSteps, peak, minRatio = 0.1 } = params;
  if (step <= warmupSteps) return (peak * step) / Math.max(1, warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/**
 * Adds one pass's gradients (by parameter name) into the running sums, disposing what it replaces (gradient
 * accumulation). The sums are kept: they may arrive inside a backward pass's tidy (`Qwen2Model.gradientSink`).
 */
export function accumulateGrads(sums: Map<string, tf.Tensor>, grads: Map<string, tf.Tensor>): void {
  for (const [name, g] of grads) {
    const prev = sums.get(name);
    sums.set(name, tf.keep(prev ? tf.tidy(() => prev.add(g)) : g));
    if (prev) tf.dispose([prev, g]);
  }
}

/** Scales gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  // a tidy per square: squaring all of them in one tidy held a second copy of every gradient (0.5 GB on the 135M model)
  const norm = Math.sqrt(tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.tidy(() => g.square().sum()))).dataSync()[0]));
  if (norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const [k, g] of grads) { grads.set(k, tf.tidy(() => g.mul(scale))); g.dispose(); }
  }
  return norm;
}

/** x ← f(), f's temporaries freed before the next term allocates its own. */
function assignFrom(x: tf.Variable, f: () => tf.Tensor): void {
  const value = tf.tidy(f);
  x.assign(value);
  value.dispose(); // the variable holds the data now
}

/**
 * AdamW (decoupled weight decay, not on norms and biases) with state that can be saved and restored, so a
 * resumed run continues with the same moments.
 */
export class AdamW {
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  step = 0;

  constructor(readonly opts: { beta1: number; beta2: number; eps: number; weightDecay: number }) {}

  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void {
    this.step++;
    const { beta1, beta2, eps, weightDecay } = this.opts;
    const bc1 = 1 - Math.pow(beta1, this.step), bc2 = 1 - Math.pow(beta2, this.step);
    for (const [name, g] of grads) {
      const p = params.get(name)!;
      if (!this.m.has(name)) { this.m.set(name, ownedVariable(tf.zerosLike(p), false)); this.v.set(name, ownedVariable(tf.zerosLike(p), false)); }
      const m = this.m.get(name)!, v = this.v.get(name)!;
      const decay = name.endsWith('.bias') || name.endsWith('norm.weight') ? 0 : weightDecay;
      // a tidy per term: one tidy around the whole update kept its dozen parameter-sized temporaries alive together
      // (1.4 GB for the 135M model's embedding table), above the training pass's own peak
      assignFrom(m, () => m.mul(beta1).add(g.mul(1 - beta1)));
      assignFrom(v, () => v.mul(beta2).add(g.square().mul(1 - beta2)));
      const update = tf.tidy(() => m.div(bc1).div(tf.tidy(() => v.div(bc2).sqrt().add(eps))));
      assignFrom(p, () => p.mul(1 - lr * decay).sub(update.mul(lr)));
      update.dispose();
    }
  }

  /** Moments as tensors named `m.<param>` / `v.<param>` (stored in the checkpoint's optimizer.safetensors). */
  state(): Map<string, NamedTensor> {
    const out = new Map<string, NamedTensor>();
    for (const [kind, map] of [['m', this.m], ['v', this.v]] as const)
      for (const [name, t] of map) out.set(`${kind}.${name}`, { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) });
    return out;
  }

  load(state: Map<string, NamedTensor>, step: number): void {
    this.dispose();
    this.step = step;
    for (const [key, t] of state) {
      const [kind, ...rest] = key.split('.');
      const map = kind === 'm' ? this.m : kind === 'v' ? this.v : undefined;
      if (!map) throw new Error(`optimizer state: unexpected tensor ${key}`);
      map.set(rest.join('.'), ownedVariable(tf.tensor(t.data, t.shape), false));
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
