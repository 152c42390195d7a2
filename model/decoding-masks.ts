import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConstrainedResponse, ConstraintOptions } from './constrained-decoding';
import { GenerateOptions, type TokenPair } from './generate';
import type { Tokenizer } from './tokenizer';

/**
 * What replaying a constrained generation's masks needs besides its tokens: the constraint and `maxNewTokens`
 * (the budgets shape the masks). Recorded with PPO rollouts; null for free decoding (no masks).
 */
export const MaskReplay = z.object({ constraint: ConstraintOptions, maxNewTokens: z.number().int().positive() }).strict();
export type MaskReplay = z.infer<typeof MaskReplay>;

/** What to record of a generation's options to replay each prompt's masks: null when they decode freely. */
export function maskReplays(options: GenerateOptions, prompts: number): (MaskReplay | null)[] {
  const o = GenerateOptions.parse(options);
  const c = o.constraint;
  const constraints = Array.isArray(c) ? c : Array.from({ length: prompts }, () => c);
  return constraints.map((constraint) => (o.decoding === 'constrained' ? { constraint, maxNewTokens: o.maxNewTokens } : null));
}


/** Far below any logit, yet finite: a masked token gets probability 0 and adds 0 (not NaN) to the entropy. */
const MASKED = -1e9;

/**
 * The token masks a constrained generation sampled under, recomputed from the response prefix by the same
 * automaton (deterministic, so nothing per token has to be stored): PPO scores old, new and reference log-probs
 * over the distribution the policy actually acted from, renormalised over the allowed tokens.
 */
export class DecodingMasks {
  /** `replay`: the constraint of pairs that carry none of their own (`TokenPair.masks`), e.g. a whole batch's. */
  constructor(private readonly tokenizer: Tokenizer, readonly replay?: MaskReplay) {}

  /** Allowed token ids at each position of `continuation`; throws at a token the constraint did not allow. */
  allowed(continuation: number[], replay = this.replay): Int32Array[] {
    if (!replay) throw new Error('a constrained response to score has no recorded constraint');
    const r = new ConstrainedResponse({ tokenizer: this.tokenizer, options: replay.constraint, maxNewTokens: replay.maxNewTokens });
    return continuation.map((tok, k) => {
      const c = r.allowed();
      const at = c.ids.indexOf(tok);
      if (at < 0) throw new Error(`response token ${k} (id ${tok}) is not one the recorded constraint allows there: the rollout was decoded differently`);
      r.take(c, at);
      return c.ids;
    });
  }

  /** Additive logit mask [N, V] for the pairs' continuation tokens, row-major (0 where allowed, MASKED elsewhere). */
  bias(pairs: TokenPair[], vocabSize: number): tf.Tensor2D {
    const rows = pairs.flatMap((p) => this.allowed(p.continuation, p.masks ?? this.replay));
    const out = new Float32Array(rows.length * vocabSize).fill(MASKED);
    rows.forEach((ids, n) => {
      for (const id of ids) out[n * vocabSize + id] = 0;
    });
    return tf.tensor2d(out, [rows.length, vocabSize]);
  }
}
