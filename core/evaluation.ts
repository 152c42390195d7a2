import { z } from 'zod';
import { AgentSpec, EpisodeLimits } from './episode-schema';

/** `evaluate` input: K episodes per held-out task for each agent (ML-Agent's avg@K / best@K protocol). */
export const EvaluateInput = z
  .object({
    tasks: z.array(z.string().min(1)).min(1),
    agents: z.array(z.object({ name: z.string().regex(/^[A-Za-z0-9_.-]+$/), agent: AgentSpec })).min(1),
    k: z.number().int().min(1).max(20).default(3),
    concurrency: z.number().int().min(1).max(64).default(2),
    limits: EpisodeLimits.default(EpisodeLimits.parse({})),
    seed: z.number().int().nonnegative().default(0),
  })
  .strict()
  .refine((v) => new Set(v.agents.map((a) => a.name)).size === v.agents.length, { message: 'agent names must be unique', path: ['agents'] });
export type EvaluateInput = z.input<typeof EvaluateInput>;

export interface TaskScore {
  agent: string;
  task: string;
  higherIsBetter: boolean;
  mInit: number;
  /** Final submission metric of each of the K episodes; null where an episode failed or left no scored submission. */
  metrics: (number | null)[];
  /** Mean of the K final metrics, a failed episode counting as the starter's m_init. */
  avgAtK: number;
  bestAtK: number;
  /** (avg@K − m_init)/|m_init|, signed so that positive is better whatever the metric's direction. */
  relativeGain: number;
}

/** (metric − m_init)/|m_init|, signed so that positive is better whatever the metric's direction. */
export function relativeGain(p: { metric: number; mInit: number; higherIsBetter: boolean }): number {
  const gain = (p.metric - p.mInit) / Math.abs(p.mInit || 1);
  return (p.higherIsBetter ? gain : -gain) || 0;
}

/**
 * avg@K and best@K over K episodes. A failed episode counts as the starter's score (the agent left the
 * task where it found it), so failures pull avg@K towards m_init instead of vanishing from the mean.
 */
export function scoreTask(p: { agent: string; task: string; higherIsBetter: boolean; mInit: number; metrics: (number | null)[] }): TaskScore {
  const filled = p.metrics.map((m) => (m === null || !Number.isFinite(m) ? p.mInit : m));
  const avgAtK = filled.reduce((a, b) => a + b, 0) / filled.length;
  const bestAtK = p.higherIsBetter ? Math.max(...filled) : Math.min(...filled);
  return { ...p, avgAtK, bestAtK, relativeGain: relativeGain({ metric: avgAtK, mInit: p.mInit, higherIsBetter: p.higherIsBetter }) };
}

/** Mean relative gain of each agent over the tasks it was scored on. */
export function agentSummary(scores: TaskScore[]): Record<string, { tasks: number; meanRelativeGain: number }> {
  const out: Record<string, { tasks: number; meanRelativeGain: number }> = {};
  for (const s of scores) {
    const cur = out[s.agent] ?? { tasks: 0, meanRelativeGain: 0 };
    out[s.agent] = { tasks: cur.tasks + 1, meanRelativeGain: (cur.meanRelativeGain * cur.tasks + s.relativeGain) / (cur.tasks + 1) };
  }
  return out;
}
