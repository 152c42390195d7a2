import { executeChild, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { OrchestratorActivities } from '../activities/orchestrator-activities';
import { agentSummary, EvaluateInput, scoreTask, type TaskScore } from '../core/evaluation';
import { forEachBounded } from '../core/for-each-bounded';
import { MLAGENT_STAGE } from '../core/search-attributes';
import { runEpisode } from './episode';
import { parseWorkflowInput } from './validate-input';

const orchestrator = proxyActivities<OrchestratorActivities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 5 } });

export interface EvaluateResult {
  scores: TaskScore[];
  agents: Record<string, { tasks: number; meanRelativeGain: number }>;
}

/**
 * ML-Agent stage 5: each agent works each held-out task K times from the starter (no injected ideas);
 * the final submission's metric of every episode gives avg@K, best@K and the relative gain over the starter.
 */
export async function evaluate(raw: EvaluateInput): Promise<EvaluateResult> {
  const input = parseWorkflowInput(EvaluateInput, raw, 'evaluate');
  const id = workflowInfo().workflowId;
  upsertSearchAttributes([{ key: MLAGENT_STAGE, value: 'evaluate' }]);
  const tasks = await Promise.all(input.tasks.map((task) => orchestrator.taskInfo({ task })));

  const jobs = input.agents.flatMap((a) => tasks.flatMap((t) => Array.from({ length: input.k }, (_, k) => ({ a, t, k }))));
  const metrics = new Map<string, (number | null)[]>();
  let done = 0;
  await forEachBounded(jobs, input.concurrency, async ({ a, t, k }) => {
    const summary = await executeChild(runEpisode, {
      workflowId: `${id}/${a.name}/${t.name}/${k}`,
      args: [{ task: t.name, agent: a.agent, limits: input.limits, seed: input.seed * 1000 + k, rewardScale: { mInit: t.mInit, mBest: t.mBest } }],
    }).catch(() => undefined);
    const key = `${a.name}\0${t.name}`;
    metrics.set(key, [...(metrics.get(key) ?? []), summary?.finalMetric ?? null]);
    setCurrentDetails(`**evaluate**: ${++done}/${jobs.length} episodes`);
  });

  const scores = input.agents.flatMap((a) =>
    tasks.map((t) => scoreTask({ agent: a.name, task: t.name, higherIsBetter: t.higherIsBetter, mInit: t.mInit, metrics: metrics.get(`${a.name}\0${t.name}`) ?? [] })),
  );
  const agents = agentSummary(scores);
  setCurrentDetails(
    [
      `**evaluate**: ${jobs.length} episodes, K=${input.k}`,
      '',
      '| agent | task | avg@K | best@K | m_init | gain |',
      '|---|---|---|---|---|---|',
      ...scores.map((s) => `| ${s.agent} | ${s.task} | ${+s.avgAtK.toFixed(5)} | ${+s.bestAtK.toFixed(5)} | ${+s.mInit.toFixed(5)} | ${(s.relativeGain * 100).toFixed(1)}% |`),
    ].join('\n'),
  );
  return { scores, agents };
}
