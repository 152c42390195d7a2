import * as tf from '@tensorflow/tfjs';
import { lmLoss, TokenBatch } from './lm-loss';
import { accumulateGrads, AdamW, clipByGlobalNorm, cosineLr } from './optim';
import { Qwen2Model } from './qwen2';
import { PackedRow, epochOrder, toBatch } from './sft-data';
import { SftInput, StepRecord } from './sft-params';

export type SftHyper = Pick<SftInput, 'epochs' | 'maxSteps' | 'batchSize' | 'lr' | 'warmupSteps' | 'minLrRatio' | 'clipNorm' | 'seed' | 'microBatchSize'>;

/** Optimizer steps of a run: `epochs` passes over the rows, capped by `maxSteps` (the learning-rate schedule spans them). */
export function totalSteps(rows: number, hyper: Pick<SftHyper, 'epochs' | 'maxSteps' | 'batchSize'>): number {
  const steps = hyper.epochs * stepsPerEpoch(rows, hyper.batchSize);
  return hyper.maxSteps ? Math.min(steps, hyper.maxSteps) : steps;
}

export function stepsPerEpoch(rows: number, batchSize: number): number {
  return Math.ceil(rows / batchSize);
}

/** The batch of global step `step` (1-based): fixed by seed and step alone, so a resumed run repeats no batch. */
export function batchForStep(rows: PackedRow[], hyper: SftHyper, step: number): TokenBatch {
  const per = stepsPerEpoch(rows.length, hyper.batchSize);
  const epoch = Math.floor((step - 1) / per);
  const order = epochOrder(rows.length, hyper.seed, epoch);
  const start = ((step - 1) % per) * hyper.batchSize;
  return toBatch(order.slice(start, start + hyper.batchSize).map((i) => rows[i]));
}

const responseTokens = (b: TokenBatch) => b.weights.flat().reduce((a, w) => a + w, 0);

/** Rows [from, to) of a batch. */
function rowsOf(b: TokenBatch, from: number, to: number): TokenBatch {
  const cut = <T>(rows: T[][]) => rows.slice(from, to);
  return { ids: cut(b.ids), targets: cut(b.targets), weights: cut(b.weights), segments: cut(b.segments), positions: cut(b.positions) };
}

/**
 * One AdamW step on `batch` over the model's trainable parameters (its adapters when it has some); returns loss
 * and pre-clip gradient norm. With `microBatchSize` the batch goes through forward and backward that many rows
 * at a time, each micro-batch's loss weighted by its share of the response tokens, so the summed gradients are
 * the whole batch's (gradient accumulation: activation memory of one micro-batch). `afterMicroBatch` is awaited
 * after each micro-batch: a step of a 135M model on 2 cores takes minutes, longer than an activity heartbeat timeout,
 * so the SFT activity heartbeats (and yields to the event loop) there, not only between steps.
 */
export async function trainStep(p: {
  model: Qwen2Model;
  optimizer: AdamW;
  batch: TokenBatch;
  lr: number;
  clipNorm: number;
  microBatchSize?: number;
  afterMicroBatch?: () => Promise<void>;
}): Promise<{ loss: number; gradNorm: number }> {
  const params = p.model.trainableParameters();
  const vars = [...params.values()];
  const rows = p.batch.ids.length, micro = Math.min(rows, p.microBatchSize ?? rows);
  const total = responseTokens(p.batch);
  let loss = 0;
  const named = new Map<string, tf.Tensor>();
  const nameOf = new Map([...params].map(([name, v]) => [v as tf.Tensor, name]));
  // checkpointed layers add their weights' gradients here during the backward pass; the rest come from the tape
  p.model.gradientSink = { add: (v, g) => accumulateGrads(named, new Map([[nameOf.get(v)!, g]])) };
  try {
    for (let from = 0; from < rows; from += micro) {
      const mb = rowsOf(p.batch, from, from + micro);
      const share = responseTokens(mb) / total;
      if (share === 0) continue;
      const { value, grads } = tf.variableGrads(() => lmLoss(p.model, mb).mul(share) as tf.Scalar, vars);
      loss += value.dataSync()[0];
      value.dispose();
      // tf names variables itself; map gradients back to the parameter names
      accumulateGrads(named, new Map([...params].flatMap(([name, v]) => (grads[v.name] ? [[name, grads[v.name]] as const] : []))));
      await p.afterMicroBatch?.();
    }
  } finally {
    p.model.gradientSink = undefined;
  }
  const gradNorm = clipByGlobalNorm(named, p.clipNorm);
  p.optimizer.apply(params, named, p.lr);
  tf.dispose([...named.values()]);
  return { loss, gradNorm };
}

/** Mean response-token loss over `rows` (no gradient), `batchSize` rows a pass; `afterBatch` as trainStep's hook. */
export async function evalLoss(p: { model: Qwen2Model; rows: PackedRow[]; batchSize: number; afterBatch?: () => Promise<void> }): Promise<number> {
  let sum = 0, count = 0;
  for (let i = 0; i < p.rows.length; i += p.batchSize) {
    const batch = toBatch(p.rows.slice(i, i + p.batchSize));
    const n = batch.weights.flat().reduce((a, b) => a + b, 0);
    sum += tf.tidy(() => lmLoss(p.model, batch).dataSync()[0]) * n;
    count += n;
    await p.afterBatch?.();
  }
  return sum / count;
}

/**
 * Runs steps `startStep+1 … total`, calling `afterStep` after each (heartbeat, checkpoint). Awaiting it also
 * yields to the event loop so heartbeats and cancellation get through between steps.
 */
export async function trainLoop(p: {
  model: Qwen2Model;
  optimizer: AdamW;
  rows: PackedRow[];
  hyper: SftHyper;
  startStep: number;
  attempt: number;
  afterStep: (rec: StepRecord) => Promise<void>;
  afterMicroBatch?: () => Promise<void>;
}): Promise<void> {
  const total = totalSteps(p.rows.length, p.hyper);
  for (let step = p.startStep + 1; step <= total; step++) {
    const lr = cosineLr({ step, totalSteps: total, warmupSteps: p.hyper.warmupSteps, peak: p.hyper.lr, minRatio: p.hyper.minLrRatio });
    // adapter dropout masks: fixed by (seed, step) like the batch, so a resumed step is the same step
    if (p.model.adapters) p.model.adapters.dropoutSeed = p.hyper.seed * 100_003 + step;
    const { loss, gradNorm } = await trainStep({
      model: p.model, optimizer: p.optimizer, batch: batchForStep(p.rows, p.hyper, step), lr, clipNorm: p.hyper.clipNorm, microBatchSize: p.hyper.microBatchSize, afterMicroBatch: p.afterMicroBatch,
    });
    if (p.model.adapters) p.model.adapters.dropoutSeed = undefined;
    if (!Number.isFinite(loss)) throw new Error(`SFT diverged at step ${step} (loss ${loss})`);
    await p.afterStep({ step, loss, lr, gradNorm, attempt: p.attempt });
  }
}
