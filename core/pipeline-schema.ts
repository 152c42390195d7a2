import { z } from 'zod';
import { CollectInput } from './collect-schema';
import { EpisodeLimits } from './episode-schema';

/**
 * `trainPipeline` input: the ML-Agent training stages in order. `sft` takes every `sft` workflow field
 * except the dataset, which comes from the collection; `evaluate`, when given, scores the trained policy.
 */
export const PipelineInput = z
  .object({
    collect: CollectInput,
    sft: z.record(z.string(), z.unknown()).default({}),
    /** Optional last stage: the SFT policy against the idea-less scripted baseline on held-out tasks. */
    evaluate: z
      .object({
        tasks: z.array(z.string().min(1)).min(1),
        k: z.number().int().min(1).max(20).default(3),
        limits: EpisodeLimits.default(EpisodeLimits.parse({})),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((v) => !('dataset' in v.sft), { message: 'the SFT dataset comes from the collection; do not set it', path: ['sft', 'dataset'] });
export type PipelineInput = z.input<typeof PipelineInput>;
