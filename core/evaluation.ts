import { z } from 'zod';
import { ArtifactRef } from './artifact-ref';
import { AgentSpec, EpisodeLimits } from './episode-schema';

/** The row every table has per task: the starter submitted unchanged, m_init by definition (no episodes run). */
export const STARTER_AGENT = 'starter';

/** Seed ideas for an evaluated agent, chosen as a collection chooses them: the task's k most diverse, 1–3 an episode. */
export const EvaluationIdeas = z
  .object({
    perTask: z.number().int().min(1).max(50).default(10),
    min: z.number().int().min(1).max(3).default(1),
    max: z.number().int().min(1).max(3).default(3),
    /** Fewer candidates than this fails the agent's idea generation (as in collection). */
    minCandidates: z.number().int().min(1).default(100),
  })
  .strict()
  .refine((v) => v.min <= v.max, { message: 'min must not exceed max', path: ['min'] });

export const EvaluatedAgent = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.+-]+$/),
    agent: AgentSpec,
    /** Seeds each episode with diverse ideas for the task (the idea-rich scripted reference); none when absent. */
    ideas: EvaluationIdeas.optional(),
  })
  .strict();
export type EvaluatedAgent = z.input<typeof EvaluatedAgent>;

/** `evaluate` input: K episodes per held-out task for each agent (ML-Agent's avg@K / best@K protocol). */
export const EvaluateInput = z
  .object({
    tasks: z.array(z.string().min(1)).min(1),
    agents: z.array(EvaluatedAgent).min(1),
    k: z.number().int().min(1).max(20).default(3),
    concurrency: z.number().int().min(1).max(64).default(2),
    limits: EpisodeLimits.default(EpisodeLimits.parse({})),
    seed: z.number().int().nonnegative().default(0),
  })
  .strict()
  .refine((v) => new Set(v.agents.map((a) => a.name)).size === v.agents.length, { message: 'agent names must be unique', path: ['agents'] })
  .refine((v) => v.agents.every((a) => a.name !== STARTER_AGENT), { message: `"${STARTER_AGENT}" is the table's own row (the starter as submitted)`, path: ['agents'] });
export type EvaluateInput = z.input<typeof EvaluateInput>;
export type EvaluateConfig = z.output<typeof EvaluateInput>;

/** How one evaluation episode ended: a completed episode (scored or not), or a failed child workflow and why. */
export type EpisodeOutcome =
  | {
      workflowId: string;
      ok: true;
      finalMetric: number | null;
      steps: number;
      validActions: number;
      /** Steps neither invalid nor failed in execution; null for an episode recorded before episodes counted them. */
      actionsWithoutError: number | null;
    }
  | { workflowId: string; ok: false; error: string };

/**
 * One (agent, task) row. avg@K and best@K are over the episodes that completed; a completed episode without a scored
 * final submission counts as m_init (the starter's submission is what stands). Failed episodes are left out of both
 * and counted in `failed`, with their errors: they say nothing about the agent, and scoring them as m_init would
 * make a broken run look like an agent with 0% gain. With no completed episode the metrics are null (an error row).
 */
export interface TaskScore {
  agent: string;
  task: string;
  /** 'starter': the row for the unchanged starter, m_init by definition; 'episodes': measured from K episodes. */
  source: 'starter' | 'episodes';
  higherIsBetter: boolean;
  mInit: number;
  /** Episodes asked for (0 for the starter row). */
  k: number;
  /** Final submission metric of each completed episode; null where it left no scored submission. */
  metrics: (number | null)[];
  avgAtK: number | null;
  bestAtK: number | null;
  /** Δ_r = (avg@K − m_init)/|m_init|, signed so that positive is better whatever the metric's direction. */
  relativeGain: number | null;
  /** Parseable, schema-valid actions / all actions, over the completed episodes; null when none acted. */
  validActionRate: number | null;
  /**
   * Actions whose outcome was neither invalid nor an execution error (non-edit, corner case or edit) / all actions,
   * over the completed episodes: a valid action can still fail to run (a missing file, a crashing script). Null when
   * none acted or an episode did not count them.
   */
  actionsWithoutErrorRate: number | null;
  /** Episodes whose final submission was scored / K (a failed episode counts as not scored). */
  validSubmissionRate: number | null;
  failed: number;
  /** One message per failed episode: `<workflow id>: <innermost cause>`. */
  errors: string[];
}

/** (metric − m_init)/|m_init|, signed so that positive is better whatever the metric's direction. */
export function relativeGain(p: { metric: number; mInit: number; higherIsBetter: boolean }): number {
  const gain = (p.metric - p.mInit) / Math.abs(p.mInit || 1);
  return (p.higherIsBetter ? gain : -gain) || 0;
}

interface TaskRef {
  agent: string;
  task: string;
  higherIsBetter: boolean;
  mInit: number;
}

/** The starter as submitted: its own metric, 0% gain by definition. */
export function starterScore(p: Omit<TaskRef, 'agent'>): TaskScore {
  return {
    ...p, agent: STARTER_AGENT, source: 'starter', k: 0, metrics: [], avgAtK: p.mInit, bestAtK: p.mInit, relativeGain: 0,
    validActionRate: null, actionsWithoutErrorRate: null, validSubmissionRate: null, failed: 0, errors: [],
  };
}

/** avg@K, best@K, Δ_r and the validity rates of one agent on one task, from its K episode outcomes (see TaskScore). */
export function scoreTask(p: TaskRef & { outcomes: EpisodeOutcome[] }): TaskScore {
  const { outcomes, ...ref } = p;
  const done = outcomes.filter((o) => o.ok);
  const metrics = done.map((o) => (o.finalMetric !== null && Number.isFinite(o.finalMetric) ? o.finalMetric : null));
  const counted = metrics.map((m) => m ?? p.mInit);
  const avgAtK = counted.length ? counted.reduce((a, b) => a + b, 0) / counted.length : null;
  const bestAtK = counted.length ? (p.higherIsBetter ? Math.max(...counted) : Math.min(...counted)) : null;
  const steps = done.reduce((n, o) => n + o.steps, 0);
  const withoutError = done.every((o) => o.actionsWithoutError !== null) ? done.reduce((n, o) => n + o.actionsWithoutError!, 0) : null;
  return {
    ...ref,
    source: 'episodes',
    k: outcomes.length,
    metrics,
    avgAtK,
    bestAtK,
    relativeGain: avgAtK === null ? null : relativeGain({ metric: avgAtK, mInit: p.mInit, higherIsBetter: p.higherIsBetter }),
    validActionRate: steps ? done.reduce((n, o) => n + o.validActions, 0) / steps : null,
    actionsWithoutErrorRate: steps && withoutError !== null ? withoutError / steps : null,
    validSubmissionRate: outcomes.length ? metrics.filter((m) => m !== null).length / outcomes.length : null,
    failed: outcomes.length - done.length,
    errors: outcomes.flatMap((o) => (o.ok ? [] : [`${o.workflowId}: ${o.error}`])),
  };
}

export interface AgentSummary {
  /** Tasks with a measured Δ_r (error rows are not among them). */
  tasks: number;
  /** Mean Δ_r over those tasks; null when the agent has none. */
  meanRelativeGain: number | null;
  failedEpisodes: number;
}

/** Per agent: mean Δ_r over the tasks it was scored on, and how many of its episodes failed. */
export function agentSummary(scores: TaskScore[]): Record<string, AgentSummary> {
  const out: Record<string, AgentSummary> = {};
  for (const s of scores) {
    const mine = scores.filter((o) => o.agent === s.agent);
    const gains = mine.map((o) => o.relativeGain).filter((g): g is number => g !== null);
    out[s.agent] = {
      tasks: gains.length,
      meanRelativeGain: gains.length ? gains.reduce((a, b) => a + b, 0) / gains.length : null,
      failedEpisodes: mine.reduce((n, o) => n + o.failed, 0),
    };
  }
  return out;
}

/** The agents a pipeline evaluates by itself, by their row names. */
export const PIPELINE_AGENTS = {
  base: 'base', // the pretrained model SFT started from, no fine-tuning
  sft: 'sft', // SFT only
  mlAgent: 'ml-agent', // SFT + step-wise PPO
  reference: 'scripted+ideas', // the scripted expert seeded with diverse ideas: a reference, not a baseline to beat
} as const;

/** `trainPipeline`'s `evaluate` field: held-out tasks, K, limits; its agents are the pipeline's (PIPELINE_AGENTS) plus `agents`. */
export const PipelineEvaluate = z
  .object({
    tasks: z.array(z.string().min(1)).min(1),
    k: z.number().int().min(1).max(20).default(3),
    concurrency: z.number().int().min(1).max(64).default(2),
    limits: EpisodeLimits.default(EpisodeLimits.parse({})),
    /** Ideas of the scripted reference. */
    ideas: EvaluationIdeas.default(EvaluationIdeas.parse({})),
    /** More agents, e.g. an OpenAI-compatible model: {"name": "gpt-4o", "agent": {"kind": "llm", "model": "gpt-4o"}}. */
    agents: z.array(EvaluatedAgent).default([]),
  })
  .strict()
  .refine((v) => v.agents.every((a) => ![...Object.values(PIPELINE_AGENTS), STARTER_AGENT].includes(a.name as never)), {
    message: `names ${[...Object.values(PIPELINE_AGENTS), STARTER_AGENT].join(', ')} are the pipeline's own rows`,
    path: ['agents'],
  });
export type PipelineEvaluate = z.output<typeof PipelineEvaluate>;

/** The pipeline's evaluation agents: base (unless SFT started from a fresh model), SFT, SFT + PPO (when PPO ran), the reference, then the input's. */
export function pipelineEvaluationAgents(p: { evaluate: PipelineEvaluate; base?: ArtifactRef; sft: ArtifactRef; ppo?: ArtifactRef }): EvaluatedAgent[] {
  const policy = (name: string, checkpoint: ArtifactRef): EvaluatedAgent => ({ name, agent: { kind: 'policy', checkpoint } });
  return [
    ...(p.base ? [policy(PIPELINE_AGENTS.base, p.base)] : []),
    policy(PIPELINE_AGENTS.sft, p.sft),
    ...(p.ppo ? [policy(PIPELINE_AGENTS.mlAgent, p.ppo)] : []),
    { name: PIPELINE_AGENTS.reference, agent: { kind: 'scripted' }, ideas: p.evaluate.ideas },
    ...p.evaluate.agents,
  ];
}
