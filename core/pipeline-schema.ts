import { z } from 'zod';
import { CollectInput } from './collect-schema';

/**
 * `trainPipeline` input: the ML-Agent training stages in order. `sft` takes every `sft` workflow field
 * except the dataset, which comes from the collection.
 */
export const PipelineInput = z
  .object({
    collect: CollectInput,
    sft: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .refine((v) => !('dataset' in v.sft), { message: 'the SFT dataset comes from the collection; do not set it', path: ['sft', 'dataset'] });
export type PipelineInput = z.input<typeof PipelineInput>;
