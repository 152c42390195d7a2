import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { TokenBatch, tokenLogProbs } from './lm-loss';
import { Decoding } from '../core/episode-schema';
import { ConstrainedResponse, ConstraintOptions } from './constrained-decoding';
import { Decoder } from './decode';
import type { MaskReplay } from './decoding-masks';
import { KVCache, Qwen2Model, disposeCache } from './qwen2';
import { rng } from './random';
import { actionInputEnd } from './stop';
import { Tokenizer } from './tokenizer';

export const GenerateOptions = z.object({
  maxNewTokens: z.number().int().positive().default(256),
  temperature: z.number().nonnegative().default(1),
  topP: z.number().gt(0).lte(1).default(1),
  seed: z.number().int().default(0),
  /** Stop a row when its `Action Input` JSON object closes (the agent's response format). */
  stopAtActionInput: z.boolean().default(true),
  /** Keep going past the end-of-text token (benchmarks need a fixed length). */
  ignoreEos: z.boolean().default(false),
  /** Off only to measure what the cache saves. */
  useCache: z.boolean().default(true),
  /**
   * 'constrained': every response is `Thought: <line>` / `Action: <allowed name>` / `Action Input: <JSON valid
   * for that action>` (token masks, `constrained-decoding.ts`), then end-of-turn (stop 'eos'); `stopAtActionInput`
   * and `ignoreEos` do not apply. 'free' samples the whole vocabulary.
   */
  decoding: Decoding.default('free'),
  /** One constraint for every prompt, or one per prompt (each grounded in its own workspace). */
  constraint: z.union([ConstraintOptions, z.array(ConstraintOptions).min(1)]).default(ConstraintOptions.parse({})),
});
export type GenerateOptions = z.input<typeof GenerateOptions>;

export interface Generation {
  text: string;
  tokens: number[];
  /**
   * log p of each generated token under the model (temperature 1), for PPO's old-policy log-probs. Constrained:
   * log p of the masked distribution the token was sampled from (renormalised over the allowed tokens, at
   * temperature 1), i.e. the log-prob of the policy that actually acted.
   */
  logprobs: number[];
  stop: 'action_input' | 'eos' | 'length';
}

/** Samples from softmax(logits / T) restricted to the top-p nucleus; temperature 0 is greedy. */
function sample(logits: Float32Array, temperature: number, topP: number, next: () => number): number {
  if (temperature === 0) return logits.reduce((best, x, i) => (x > logits[best] ? i : best), 0);
  const max = logits.reduce((a, b) => Math.max(a, b), -Infinity);
  if (topP === 1) {
    // no nucleus, so no sort: sorting 49k candidates took longer (~100 ms) than the 135M model's decode step
    const w = new Float64Array(logits.length);
    let z = 0;
    for (let i = 0; i < w.length; i++) z += w[i] = Math.exp((logits[i] - max) / temperature);
    let r = next() * z;
    let last = 0;
    for (let i = 0; i < w.length; i++) {
      if (w[i] === 0) continue;
      last = i;
      if ((r -= w[i]) <= 0) return i;
    }
    return last; // rounding left a little of r
  }
  const probs = Array.from(logits, (x, i) => ({ i, p: Math.exp((x - max) / temperature) }));
  const z = probs.reduce((a, b) => a + b.p, 0);
  probs.sort((a, b) => b.p - a.p);
  let keep = 0, mass = 0;
  while (keep < probs.length && (keep === 0 || mass < topP * z)) mass += probs[keep++].p;
  let r = next() * mass;
  for (let k = 0; k < keep; k++) if ((r -= probs[k].p) <= 0) return probs[k].i;
  return probs[keep - 1].i;
}

function logSoftmaxAt(logits: Float32Array, i: number): number {
  const max = logits.reduce((a, b) => Math.max(a, b), -Infinity);
  let s = 0;
  for (const x of logits) s += Math.exp(x - max);
  return logits[i] - max - Math.log(s);
}

/**
 * Batched generation. Prompts are left-padded (segment 0 = padding, masked out) and each row's rotary
 * positions start at its first real token, so a row's result does not depend on its batch neighbours.
 */
export function generate(model: Qwen2Model, tokenizer: Tokenizer, prompts: string[], options: GenerateOptions = {}): Generation[] {
  const steps = generateSteps(model, tokenizer, prompts, options);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * `generate` one decode step at a time: yields the rows so far (tokens, logprobs, stop; `text` is filled in at
 * the end) after each new token, returns the finished rows. A server streams from it and may stop early with
 * `return()`, which frees the KV cache.
 */
export function* generateSteps(model: Qwen2Model, tokenizer: Tokenizer, prompts: string[], options: GenerateOptions = {}): Generator<readonly Generation[], Generation[]> {
  const opt = GenerateOptions.parse(options);
  const next = rng(opt.seed);
  const B = prompts.length;
  const encoded = prompts.map((p) => tokenizer.encode(p));
  if (encoded.some((e) => e.length === 0)) throw new Error('generate: empty prompt');
  const longest = Math.max(...encoded.map((e) => e.length));
  if (longest + opt.maxNewTokens > model.config.max_position_embeddings)
    throw new Error(`generate: prompt (${longest} tokens) + maxNewTokens (${opt.maxNewTokens}) exceeds max_position_embeddings ${model.config.max_position_embeddings}`);
  const ids = encoded.map((e) => [...Array(longest - e.length).fill(0), ...e]);
  const segs = encoded.map((e) => [...Array(longest - e.length).fill(0), ...Array(e.length).fill(1)]);
  const pos = encoded.map((e) => [...Array(longest - e.length).fill(0), ...e.map((_, i) => i)]);
  const out: Generation[] = encoded.map(() => ({ text: '', tokens: [], logprobs: [], stop: 'length' }));
  const done = new Array<boolean>(B).fill(false);
  const constraints = Array.isArray(opt.constraint) ? opt.constraint : encoded.map(() => opt.constraint as ConstraintOptions);
  if (constraints.length !== B) throw new Error(`generate: ${constraints.length} constraints for ${B} prompts`);
  const constrained = opt.decoding === 'constrained'
    ? constraints.map((c) => new ConstrainedResponse({ tokenizer, options: c, maxNewTokens: opt.maxNewTokens }))
    : undefined;
  let cache: KVCache | undefined;
  // the prompt goes through `forward` (cache filled), each later token through the decoder's few-op step
  const decoder = opt.useCache ? new Decoder(model) : undefined;
  let stepIds = ids, stepSegs = segs, stepPos = pos;
  try {
    for (let t = 0; t < opt.maxNewTokens && done.some((d) => !d); t++) {
      let segments: Int32Array[] = [];
      const [last, ...kv] = tf.tidy(() => {
        const input = { ids: stepIds, segments: stepSegs, positions: stepPos };
        let lastLogits: tf.Tensor, next: KVCache | undefined;
        if (decoder && cache) ({ logits: lastLogits, cache: next } = decoder.step({ ...input, cache }));
        else if (decoder) ({ logits: lastLogits, cache: next } = prefillByRow(model, input));
        else {
          const r = model.forward({ ...input, useCache: opt.useCache });
          const T = stepIds[0].length;
          lastLogits = model.logits(r.hidden.slice([0, T - 1, 0], [B, 1, -1])).reshape([B, -1]);
          next = r.cache;
        }
        segments = next?.segments ?? [];
        return [lastLogits, ...(next?.k ?? []), ...(next?.v ?? [])];
      });
      const L = model.config.num_hidden_layers;
      const newCache: KVCache | undefined = kv.length ? { k: kv.slice(0, L), v: kv.slice(L), segments } : undefined;
      const logits = last.dataSync() as Float32Array;
      last.dispose();
      disposeCache(cache);
      cache = newCache;
      const V = model.config.vocab_size;
      const chosen: number[] = [];
      for (let b = 0; b < B; b++) {
        if (done[b]) { chosen.push(tokenizer.eosId); continue; }
        const row = logits.subarray(b * V, (b + 1) * V);
        if (constrained) {
          const c = constrained[b].allowed();
          const allowed = new Float32Array(c.ids.length);
          for (let i = 0; i < c.ids.length; i++) allowed[i] = row[c.ids[i]];
          const k = sample(allowed, opt.temperature, opt.topP, next);
          constrained[b].take(c, k);
          chosen.push(c.ids[k]);
          out[b].tokens.push(c.ids[k]);
          out[b].logprobs.push(logSoftmaxAt(allowed, k));
          // after the closed object the mask holds end-of-turn alone: probability 1, taken without a forward step
          // and, as free decoding's EOS, not in `tokens` (PPO's chosenTokens adds it); no room left: unterminated
          if (constrained[b].done) { done[b] = true; out[b].stop = out[b].tokens.length < opt.maxNewTokens ? 'eos' : 'action_input'; }
          continue;
        }
        // padded vocabularies (model rows beyond the tokenizer's, as in Qwen) are never sampled
        const tok = sample(row.subarray(0, tokenizer.vocabSize), opt.temperature, opt.topP, next);
        chosen.push(tok);
        out[b].tokens.push(tok);
        out[b].logprobs.push(logSoftmaxAt(row, tok));
        if (tok === tokenizer.eosId && !opt.ignoreEos) { done[b] = true; out[b].stop = 'eos'; out[b].tokens.pop(); out[b].logprobs.pop(); continue; }
        if (opt.stopAtActionInput) {
          const text = tokenizer.decode(out[b].tokens);
          if (actionInputEnd(text) !== undefined) { done[b] = true; out[b].stop = 'action_input'; }
        }
      }
      const nextPos = stepPos.map((row, b) => row[row.length - 1] + (stepSegs[b][row.length - 1] === 0 ? 0 : 1));
      if (opt.useCache) {
        stepIds = chosen.map((c) => [c]);
        stepSegs = segs.map(() => [1]);
        stepPos = nextPos.map((p) => [p]);
      } else {
        stepIds = stepIds.map((row, b) => [...row, chosen[b]]);
        stepSegs = stepSegs.map((row) => [...row, 1]);
        stepPos = stepPos.map((row, b) => [...row, nextPos[b]]);
      }
      yield out;
    }
  } finally {
    disposeCache(cache);
    decoder?.dispose();
  }
  for (const g of out) {
    g.text = tokenizer.decode(g.tokens);
    // a constrained response ends exactly at its JSON's close (the automaton knows where, a thought may mention braces)
    const end = g.stop === 'action_input' && !constrained ? actionInputEnd(g.text) : undefined;
    if (end !== undefined) g.text = g.text.slice(0, end);
  }
  return out;
}

/**
 * The prompts' forward pass, one row at a time, as the KV cache of the batch and the last position's logits.
 * Every intermediate of a forward pass lives until its `tidy` ends, and attention over the prompt is the largest
 * ([heads, T, T] per layer): row by row, the peak is one row's (a batch of 5 prompts of 1.2k tokens needed
 * 19 GB at once with the 135M model). Rows are independent (left padding is masked), so the result is the same,
 * and a row's padding is not computed at all.
 */
function prefillByRow(model: Qwen2Model, input: { ids: number[][]; segments: number[][]; positions: number[][] }): { logits: tf.Tensor; cache: KVCache } {
  const L = model.config.num_hidden_layers;
  const T = input.ids[0].length;
  const segments: Int32Array[] = [];
  const rows = input.ids.map((ids, b) => tf.tidy(() => {
    // the row without its left padding (no work on it), whose cache is then padded back: masked as padding
    const pad = input.segments[b].indexOf(1);
    const r = model.forward({ ids: [ids.slice(pad)], segments: [input.segments[b].slice(pad)], positions: [input.positions[b].slice(pad)], useCache: true });
    const seg = new Int32Array(T);
    seg.set(r.cache!.segments[0], pad);
    segments.push(seg);
    const padKv = (x: tf.Tensor) => tf.pad(x, [[0, 0], [0, 0], [pad, 0], [0, 0]]);
    return [model.logits(r.hidden.slice([0, T - pad - 1, 0], [1, 1, -1])).reshape([1, -1]), ...r.cache!.k.map(padKv), ...r.cache!.v.map(padKv)];
  }));
  const cat = (i: number) => tf.concat(rows.map((r) => r[i]), 0);
  const out = { logits: cat(0), cache: { k: Array.from({ length: L }, (_, l) => cat(1 + l)), v: Array.from({ length: L }, (_, l) => cat(1 + L + l)), segments } };
  tf.dispose(rows.flat());
  return out;
}

/** Right-padded batch of prompt + continuation token rows; weights mark the continuation targets. */
export function continuationBatch(pairs: TokenPair[]): TokenBatch {
  const rows = pairs.map(({ prompt, continuation }) => {
    if (prompt.length === 0 || continuation.length === 0) throw new Error('continuation scoring needs a non-empty prompt and continuation');
    return { ids: [...prompt, ...continuation], promptLen: prompt.length };
  });
  const T = Math.max(...rows.map((r) => r.ids.length)) - 1;
  const pad = (a: number[]) => [...a, ...Array(T - a.length).fill(0)];
  return {
    ids: rows.map((r) => pad(r.ids.slice(0, -1))),
    targets: rows.map((r) => pad(r.ids.slice(1))),
    segments: rows.map((r) => pad(Array(r.ids.length - 1).fill(1))),
    positions: rows.map(() => Array.from({ length: T }, (_, i) => i)),
    weights: rows.map((r) => pad(r.ids.slice(1).map((_, i) => (i + 1 >= r.promptLen ? 1 : 0)))),
  };
}

/** Token ids of a prompt and of a continuation to score (e.g. a generated action). */
/** `masks`: how the continuation was decoded when constrained (scoring replays its masks). */
export interface TokenPair { prompt: number[]; continuation: number[]; masks?: MaskReplay }

/** Per-token log-probabilities of each continuation given its prompt (PPO's old-policy and reference terms). */
export function continuationLogProbs(model: Qwen2Model, pairs: TokenPair[]): number[][] {
  const batch = continuationBatch(pairs);
  const lp = tf.tidy(() => tokenLogProbs(model, batch, batch.targets).arraySync() as number[][]);
  return lp.map((row, b) => row.filter((_, i) => batch.weights[b][i] === 1));
}
