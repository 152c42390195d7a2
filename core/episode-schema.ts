import { z } from 'zod';
import { ArtifactRef } from './artifact-ref';
import { TokenUsage } from './llm-schemas';

/** One idea injected into the agent's first prompt (ML-Agent's exploration enrichment). */
export const SeedIdea = z.object({
  id: z.string().min(1),
  text: z.string().min(1),
  /** Exact `Edit Script` edits that implement the idea on the task's starter, when known. */
  edits: z
    .array(z.object({ script_name: z.string(), edits: z.array(z.object({ old: z.string(), new: z.string() })) }))
    .optional(),
});
export type SeedIdea = z.infer<typeof SeedIdea>;

/** How the policy's responses are sampled (see AgentSpec): masked to valid actions, or the whole vocabulary. */
export const Decoding = z.enum(['constrained', 'free']);
export type Decoding = z.infer<typeof Decoding>;
export const DEFAULT_POLICY_DECODING: Decoding = 'constrained';

export const AgentSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('scripted') }).strict(),
  /** The trained policy (a checkpoint from `sft`), served by the model worker. */
  z.object({
    kind: z.literal('policy'),
    checkpoint: ArtifactRef,
    temperature: z.number().min(0).default(0.7),
    maxNewTokens: z.number().int().positive().max(2048).default(256),
    /**
     * 'constrained' (default): token masks keep every response a parseable, schema-valid action
     * (`model/constrained-decoding.ts`); a small policy (the CPU default, or SmolLM2-135M zero-shot) rarely writes
     * one on its own, and an invalid step teaches and scores nothing. 'free' samples the whole vocabulary.
     */
    decoding: Decoding.default(DEFAULT_POLICY_DECODING),
  }).strict(),
  /**
   * An OpenAI-compatible chat model prompted MLAgentBench-style: the worker's endpoint (MLAGENT_LLM_BASE_URL /
   * MLAGENT_LLM_MODEL), another `model` on it, or another keyless endpoint `baseUrl` (e.g. a local server): the
   * worker's MLAGENT_LLM_API_KEY goes only to its own endpoint, so a workflow input cannot send it elsewhere.
   */
  z.object({
    kind: z.literal('llm'),
    temperature: z.number().min(0).max(2).default(0.7),
    maxTokens: z.number().int().positive().optional(),
    baseUrl: z.url().optional(),
    model: z.string().min(1).optional(),
  }).strict().refine((a) => a.baseUrl === undefined || a.model !== undefined, { message: 'an llm agent with its own baseUrl needs a model', path: ['model'] }),
]);
export type AgentSpec = z.infer<typeof AgentSpec>;

export const EpisodeLimits = z.object({
  maxSteps: z.number().int().min(1).max(100).default(15),
  maxMinutes: z.number().positive().max(24 * 60).default(30),
  /** Per script run; the task's own timeout when absent. */
  scriptTimeoutSec: z.number().int().positive().optional(),
  observationChars: z.number().int().min(200).default(4000),
  /** An action its container's host has not started within this long moves, with the state, to another host. */
  hostLostAfterSec: z.number().int().min(5).default(300),
  /** A policy decision no model worker has picked up within this long fails the episode (no worker is running). */
  modelWorkerLostAfterSec: z.number().int().min(1).default(300),
}).strict();
export type EpisodeLimits = z.infer<typeof EpisodeLimits>;

/**
 * The reward module's metric scale of one task, read once when a run starts and then fixed: m_best is raised
 * between runs (`activities/task-best.ts`), and α = 100/(m_best − m_init) must not change within a run, so
 * every reward of the run can be recomputed from what the run recorded.
 */
export const RewardScale = z.object({ mInit: z.number(), mBest: z.number() }).strict();
export type RewardScale = z.infer<typeof RewardScale>;

export const EpisodeInput = z.object({
  task: z.string().min(1),
  agent: AgentSpec.default({ kind: 'scripted' }),
  seedIdeas: z.array(SeedIdea).max(3).default([]),
  limits: EpisodeLimits.default(EpisodeLimits.parse({})),
  seed: z.number().int().default(0),
  /** Fixed by the parent run (collection, evaluation); read from the task when the episode is started alone. */
  rewardScale: RewardScale.optional(),
}).strict();
export type EpisodeInput = z.input<typeof EpisodeInput>;
export type EpisodeConfig = z.output<typeof EpisodeInput>;

/** How a step counts for the reward module (DESIGN.md). */
export const StepKind = z.enum(['invalid', 'error', 'non_edit', 'corner_case', 'edit']);
export type StepKind = z.infer<typeof StepKind>;

export const HistoryEntry = z.object({ response: z.string(), observation: z.string() });
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const StepRecord = z.object({
  step: z.number().int(),
  /** The state the agent acted from: feedback history, workspace snapshot, metric so far. */
  state: z.object({ history: z.array(HistoryEntry), snapshot: ArtifactRef, metric: z.number().nullable() }),
  response: z.string(),
  action: z.object({ name: z.string(), input: z.unknown() }).nullable(),
  observation: z.string(),
  kind: StepKind,
  /** Metric of the workspace after the action (scored runs only). */
  metricAfter: z.number().nullable(),
  reward: z.number().nullable(),
  /** The m_init and m_best the reward was computed with (fixed for the run). */
  rewardScale: RewardScale,
  snapshotAfter: ArtifactRef,
  startedAt: z.string(),
  seconds: z.number(),
  /** Token usage of every LLM call the step made (the agent's decision, a coder edit, an LLM summary); absent when none. */
  usage: z.array(TokenUsage).optional(),
});
export type StepRecord = z.infer<typeof StepRecord>;

export const EpisodeSummary = z.object({
  episodeId: z.string(),
  task: z.string(),
  steps: z.number().int(),
  /** Steps whose response parsed as an action with a schema-valid input (the rest are 'invalid' steps). */
  validActions: z.number().int(),
  /** Steps whose outcome was neither 'invalid' nor 'error' (the action parsed and ran); absent in older results. */
  actionsWithoutError: z.number().int().optional(),
  endReason: z.enum(['final_answer', 'max_steps', 'time_limit']),
  initialMetric: z.number().nullable(),
  rewardScale: RewardScale,
  finalMetric: z.number().nullable(),
  bestMetric: z.number().nullable(),
  trajectory: ArtifactRef,
  /** Time spent in sandboxes (actions and workspace scoring) and how often the metric cache answered. */
  sandboxSeconds: z.number(),
  evaluations: z.object({ total: z.number().int(), cached: z.number().int() }),
});
export type EpisodeSummary = z.infer<typeof EpisodeSummary>;

/** Every task's starter (task.json requires it among the public files); scripts are run as `python3 <script>`. */
export const STARTER_SCRIPT = 'train.py';
