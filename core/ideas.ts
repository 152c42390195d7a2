import { z } from 'zod';
import { ActionInputs } from './actions';
import { ArtifactRef } from './artifact-ref';
import { TokenUsage } from './llm-schemas';

/**
 * Improvement ideas for a task (ML-Agent stage 1): candidates are proposed, embedded, and the most
 * diverse few are kept to seed expert episodes. Field names match `SeedIdea` (core/episode-schema.ts),
 * so a chosen idea can be passed to an episode as is.
 */
export const Idea = z.object({
  /** Stable within a task: the same idea gets the same id in every run. */
  id: z.string().min(1),
  title: z.string().min(1),
  /** What the expert sees, and what is embedded. */
  text: z.string().min(1),
  source: z.enum(['bank', 'llm']),
  /** Exact `Edit Script` inputs that implement the idea on the task's starter (always present for bank ideas). */
  edits: z.array(ActionInputs['Edit Script']).optional(),
});
export type Idea = z.infer<typeof Idea>;

export const GenerateIdeasInput = z
  .object({
    task: z.string().min(1),
    /** How many diverse ideas to keep. */
    k: z.number().int().min(1).max(50).default(10),
    /** Picks the first point of the farthest-point selection (and is passed to the LLM). */
    seed: z.number().int().nonnegative().default(1),
    /** Fewer candidates than this is a failure, not a silently smaller pool. */
    minCandidates: z.number().int().min(1).default(100),
  })
  .strict();
export type GenerateIdeasInput = z.input<typeof GenerateIdeasInput>;
export type GenerateIdeasConfig = z.output<typeof GenerateIdeasInput>;

export const ProposedIdeas = z.object({
  task: z.string(),
  source: z.enum(['bank', 'llm']),
  candidates: z.array(Idea),
  usage: z.array(TokenUsage),
});
export type ProposedIdeas = z.infer<typeof ProposedIdeas>;

export const IdeaEmbeddings = z.object({
  embedder: z.string(),
  vectors: z.array(z.array(z.number())),
  usage: z.array(TokenUsage),
});
export type IdeaEmbeddings = z.infer<typeof IdeaEmbeddings>;

/** The stored result of `generateIdeas` (artifact kind `idea-set`). */
export const IdeaSet = z.object({
  task: z.string(),
  k: z.number().int(),
  seed: z.number().int(),
  source: z.enum(['bank', 'llm']),
  embedder: z.string(),
  candidateCount: z.number().int(),
  candidates: ArtifactRef,
  embeddings: ArtifactRef,
  chosen: z.array(Idea),
  /** Mean pairwise cosine distance of the chosen ideas, and of all candidates for comparison. */
  diversity: z.object({ chosen: z.number(), allCandidates: z.number() }),
  usage: z.array(TokenUsage),
});
export type IdeaSet = z.infer<typeof IdeaSet>;
