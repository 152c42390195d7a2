import { z } from 'zod';
import { ArtifactRef } from './artifact-ref';
import { CollectInput, DatasetRefs } from './collect-schema';
import { RewardScale } from './episode-schema';
import { SftInput } from '../model/sft-params';
import { PipelineEvaluate } from './evaluation';
import { PpoInput } from './ppo-schema';

const PipelineSft = SftInput.omit({ dataset: true }).strict();

/**
 * A finished collection a new run starts from instead of collecting: the refs and counts of a `collectTrajectories`
 * result (or of a pipeline result's `refs.collect`), with its reward scales so PPO rewards as that collection did.
 */
export const CollectedRefs = DatasetRefs.extend({ rewardScales: z.record(z.string(), RewardScale).optional() }).strict();
export type CollectedRefs = z.infer<typeof CollectedRefs>;

/**
 * `trainPipeline` input: the ML-Agent training stages in order. `sft` takes every `sft` workflow field except the
 * dataset (it comes from the collection); `ppo`, when given, every `ppo` field except the states pool and the
 * start checkpoint (the collection's and the SFT's); `evaluate`, when given, scores the trained policies; `from`
 * starts after stages an earlier run finished.
 */
export const PipelineInput = z
  .object({
    /** Stages 1–2; not needed when `from.collect` is given, nor when `from.sftCheckpoint` is and there is no `ppo`. */
    collect: CollectInput.optional(),
    sft: PipelineSft.default(PipelineSft.parse({})),
    /** Stage 4, step-wise PPO from the SFT checkpoint on the collection's states pool. */
    ppo: PpoInput.omit({ statesPool: true, checkpoint: true, rewardScales: true, resume: true }).strict().optional(),
    /** Optional last stage: the held-out evaluation table (base, SFT, SFT + PPO, the idea-rich scripted reference, the starter). */
    evaluate: PipelineEvaluate.optional(),
    /** Refs of earlier stages (of an earlier run): the stages that made them are skipped. */
    from: z.object({ collect: CollectedRefs.optional(), sftCheckpoint: ArtifactRef.optional() }).strict().optional(),
  })
  .strict()
  .refine((v) => v.collect || !needsCollection(v), {
    message: 'required: a collection is needed unless `from.collect` is given (or `from.sftCheckpoint` without `ppo`)',
    path: ['collect'],
  });
export type PipelineInput = z.input<typeof PipelineInput>;
export type PipelineConfig = z.output<typeof PipelineInput>;

/** Collection runs when nothing reuses one and its output is still needed: for SFT, or for PPO's states pool. */
export function needsCollection(v: { from?: { collect?: unknown; sftCheckpoint?: unknown }; ppo?: unknown }): boolean {
  return !v.from?.collect && (!v.from?.sftCheckpoint || v.ppo !== undefined);
}
