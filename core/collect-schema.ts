import { z } from 'zod';
import { ArtifactRef } from './artifact-ref';
import { EpisodeLimits, RewardScale } from './episode-schema';

/** `collectTrajectories` input: tasks × diverse-idea subsets × repeats, run as child episodes. */
export const CollectInput = z
  .object({
    tasks: z.array(z.string().min(1)).min(1),
    /** Diverse ideas kept per task (paper: 10 of ≥ 100 candidates). */
    ideasPerTask: z.number().int().min(1).max(50).default(10),
    minCandidates: z.number().int().min(1).default(100),
    /** Episodes per task, each seeded with a different subset of 1–3 chosen ideas. */
    episodesPerTask: z.number().int().min(1).max(200).default(10),
    ideasPerEpisode: z.object({ min: z.number().int().min(1).max(3), max: z.number().int().min(1).max(3) }).default({ min: 1, max: 3 }),
    repeats: z.number().int().min(1).max(20).default(1),
    /** Episodes running at once across the whole collection. */
    concurrency: z.number().int().min(1).max(64).default(2),
    limits: EpisodeLimits.default(EpisodeLimits.parse({})),
    seed: z.number().int().nonnegative().default(1),
    /** Reward scales to use instead of the tasks' current ones (e.g. a previous run's, to reproduce its rewards). */
    rewardScales: z.record(z.string(), RewardScale).optional(),
  })
  .strict()
  .refine((v) => v.ideasPerEpisode.min <= v.ideasPerEpisode.max, { message: 'min must be <= max', path: ['ideasPerEpisode', 'min'] });
export type CollectInput = z.input<typeof CollectInput>;
export type CollectConfig = z.output<typeof CollectInput>;

export const DatasetRefs = z.object({
  trajectories: ArtifactRef,
  statesPool: ArtifactRef,
  sft: ArtifactRef,
  sharegpt: ArtifactRef,
  counts: z.object({ trajectories: z.number().int(), states: z.number().int(), sftPairs: z.number().int() }),
});
export type DatasetRefs = z.infer<typeof DatasetRefs>;

/** One RL start state of the pool (ML-Agent step-wise RL samples these). */
export const PoolState = z.object({
  task: z.string(),
  episodeId: z.string(),
  step: z.number().int(),
  seedIdeas: z.array(z.object({ id: z.string(), text: z.string() })),
  history: z.array(z.object({ response: z.string(), observation: z.string() })),
  snapshot: ArtifactRef,
  metric: z.number().nullable(),
  expertResponse: z.string(),
});
export type PoolState = z.infer<typeof PoolState>;
