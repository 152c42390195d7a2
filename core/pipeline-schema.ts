import { z } from 'zod';
import { CollectInput } from './collect-schema';
import { SftInput } from '../model/sft-params';
import { EpisodeLimits } from './episode-schema';
import { PpoInput } from './ppo-schema';

const PipelineSft = SftInput.omit({ dataset: true }).strict();

/**
 * `trainPipeline` input: the ML-Agent training stages in order. `sft` takes every `sft` workflow field except the
 * dataset (it comes from the collection); `ppo`, when given, every `ppo` field except the states pool and the
 * start checkpoint (the collection's and the SFT's); `evaluate`, when given, scores the trained policies.
 */
export const PipelineInput = z
  .object({
    collect: CollectInput,
    sft: PipelineSft.default(PipelineSft.parse({})),
    /** Stage 4, step-wise PPO from the SFT checkpoint on the collection's states pool. */
    ppo: PpoInput.omit({ statesPool: true, checkpoint: true, rewardScales: true, resume: true }).strict().optional(),
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
  .strict();
export type PipelineInput = z.input<typeof PipelineInput>;
