import { executeChild, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { OrchestratorActivities, TaskInfo } from '../activities/orchestrator-activities';
import type { SeedIdea } from '../core/episode-schema';
import { agentSummary, EvaluateInput, scoreTask, starterScore, type EpisodeOutcome, type EvaluateConfig } from '../core/evaluation';
import { evaluationMarkdown, type EvaluationTable } from '../core/evaluation-table';
import { failureMessage } from '../core/failure-message';
import { forEachBounded } from '../core/for-each-bounded';
import { ideaSubsets } from '../core/idea-subsets';
import { MLAGENT_STAGE } from '../core/search-attributes';
import { runEpisode } from './episode';
import { generateIdeas } from './ideas';
import { parseWorkflowInput } from './validate-input';

const orchestrator = proxyActivities<OrchestratorActivities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 5 } });

/**
 * `scores`: per task the starter row, then one row per agent (core/evaluation.ts TaskScore, plain JSON);
 * `agents`: per agent its mean Δ_r over scored tasks and its failed episodes.
 */
export type EvaluateResult = EvaluationTable;

type Agent = EvaluateConfig['agents'][number];
const key = (agent: string, task: string) => `${agent}\0${task}`;

/**
 * ML-Agent stage 5: each agent works each held-out task K times from the starter (seeded with diverse ideas only
 * for agents that ask for them); every episode's final submission gives avg@K, best@K and Δ_r over the starter. A
 * failed episode is an error in its row, never a silent m_init.
 */
export async function evaluate(raw: EvaluateInput): Promise<EvaluateResult> {
  const input = parseWorkflowInput(EvaluateInput, raw, 'evaluate');
  const id = workflowInfo().workflowId;
  upsertSearchAttributes([{ key: MLAGENT_STAGE, value: 'evaluate' }]);
  const tasks = await Promise.all(input.tasks.map((task) => orchestrator.taskInfo({ task })));
  const ideas = await seedIdeas({ id, agents: input.agents, tasks, k: input.k, seed: input.seed });

  const outcomes = new Map<string, EpisodeOutcome[]>();
  const jobs: { a: Agent; t: TaskInfo; k: number; seedIdeas: SeedIdea[] }[] = [];
  for (const a of input.agents) {
    for (const t of tasks) {
      const planned = ideas.get(key(a.name, t.name));
      if (planned && 'error' in planned) outcomes.set(key(a.name, t.name), Array.from({ length: input.k }, () => ({ ...planned, ok: false as const })));
      else for (let k = 0; k < input.k; k++) jobs.push({ a, t, k, seedIdeas: planned?.perEpisode[k] ?? [] });
    }
  }
  let done = 0;
  let failed = 0;
  await forEachBounded(jobs, input.concurrency, async ({ a, t, k, seedIdeas: ideasOfEpisode }) => {
    const workflowId = `${id}/${a.name}/${t.name}/${k}`;
    const outcome: EpisodeOutcome = await executeChild(runEpisode, {
      workflowId,
      args: [{ task: t.name, agent: a.agent, seedIdeas: ideasOfEpisode, limits: input.limits, seed: input.seed * 1000 + k, rewardScale: { mInit: t.mInit, mBest: t.mBest } }],
    }).then(
      (s) => ({ workflowId, ok: true as const, finalMetric: s.finalMetric, steps: s.steps, validActions: s.validActions, actionsWithoutError: s.actionsWithoutError ?? null }),
      (err: unknown) => ({ workflowId, ok: false as const, error: failureMessage(err) }),
    );
    const row = outcomes.get(key(a.name, t.name)) ?? new Array<EpisodeOutcome>(input.k);
    row[k] = outcome;
    outcomes.set(key(a.name, t.name), row);
    if (!outcome.ok) failed++;
    setCurrentDetails(`**evaluate**: ${++done}/${jobs.length} episodes${failed ? `, ${failed} failed` : ''}`);
  });

  const scores = tasks.flatMap((t) => {
    const ref = { task: t.name, higherIsBetter: t.higherIsBetter, mInit: t.mInit };
    return [starterScore(ref), ...input.agents.map((a) => scoreTask({ ...ref, agent: a.name, outcomes: outcomes.get(key(a.name, t.name)) ?? [] }))];
  });
  const result: EvaluateResult = { scores, agents: agentSummary(scores) };
  setCurrentDetails(`**evaluate**: ${jobs.length} episodes, K=${input.k}\n\n${evaluationMarkdown(result)}`);
  return result;
}

type IdeaPlan = { perEpisode: SeedIdea[][] } | { workflowId: string; error: string };

/** Per (agent, task) of the agents that ask for ideas: the task's most diverse ideas, split into K episode subsets. */
async function seedIdeas(p: { id: string; agents: Agent[]; tasks: TaskInfo[]; k: number; seed: number }): Promise<Map<string, IdeaPlan>> {
  const plans = new Map<string, IdeaPlan>();
  const wanted = p.agents.flatMap((a) => (a.ideas ? p.tasks.map((t, ti) => ({ a, opts: a.ideas!, t, ti })) : []));
  await Promise.all(
    wanted.map(async ({ a, opts, t, ti }) => {
      const workflowId = `${p.id}/ideas/${a.name}/${t.name}`;
      const plan = await executeChild(generateIdeas, {
        workflowId,
        args: [{ task: t.name, k: opts.perTask, seed: p.seed, minCandidates: opts.minCandidates }],
      }).then(
        ({ chosen }) => ({
          perEpisode: ideaSubsets({ ideaCount: chosen.length, episodes: p.k, min: opts.min, max: opts.max, seed: p.seed + ti }).map((subset) =>
            subset.map((i) => ({ id: chosen[i]!.id, text: chosen[i]!.text, edits: chosen[i]!.edits })),
          ),
        }),
        (err: unknown) => ({ workflowId, error: `idea generation failed: ${failureMessage(err)}` }),
      );
      plans.set(key(a.name, t.name), plan);
    }),
  );
  return plans;
}
