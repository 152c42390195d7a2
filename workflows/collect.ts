import { defineQuery, executeChild, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { DatasetActivities } from '../activities/dataset-activities';
import type { OrchestratorActivities } from '../activities/orchestrator-activities';
import type { ArtifactRef } from '../core/artifact-ref';
import { CollectInput, type DatasetRefs } from '../core/collect-schema';
import type { EpisodeSummary, RewardScale, SeedIdea } from '../core/episode-schema';
import { failureMessage } from '../core/failure-message';
import { forEachBounded } from '../core/for-each-bounded';
import { ideaSubsets } from '../core/idea-subsets';
import { MLAGENT_STAGE } from '../core/search-attributes';
import { generateIdeas } from './ideas';
import { runEpisode } from './episode';
import { parseWorkflowInput } from './validate-input';

const datasets = proxyActivities<DatasetActivities>({ startToCloseTimeout: '10 minutes', retry: { maximumAttempts: 5 } });
const orchestrator = proxyActivities<OrchestratorActivities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 5 } });

export interface CollectProgress {
  stage: 'ideas' | 'episodes' | 'datasets' | 'done';
  done: number;
  failed: number;
  total: number;
}
export const collectProgressQuery = defineQuery<CollectProgress>('progress');

export interface CollectResult extends DatasetRefs {
  episodes: { task: string; workflowId: string; ideas: string[]; ok: boolean; error?: string; bestMetric?: number | null; steps?: number }[];
  /** m_init and m_best per task as read when the collection started: every episode's rewards use them. */
  rewardScales: Record<string, RewardScale>;
  /** m_best raised by this collection's episodes; later runs read it, this one does not. */
  raisedBest: Record<string, number>;
  sandboxSeconds: number;
  metricCache: { evaluations: number; hits: number; hitRate: number };
}

/**
 * ML-Agent stage 2: diverse ideas per task, then expert episodes seeded with 1–3 of them, as child
 * workflows under a concurrency cap. A failed episode is recorded and does not fail the collection.
 * Outputs the trajectory set, the states pool and the SFT dataset as artifacts.
 */
export async function collectTrajectories(raw: CollectInput): Promise<CollectResult> {
  const input = parseWorkflowInput(CollectInput, raw, 'collectTrajectories');
  const id = workflowInfo().workflowId;
  upsertSearchAttributes([{ key: MLAGENT_STAGE, value: 'collect' }]);
  const progress: CollectProgress = { stage: 'ideas', done: 0, failed: 0, total: 0 };
  setHandler(collectProgressQuery, () => progress);
  // Before any episode: the bests this collection raises at its end must not rescale its own rewards.
  const rewardScales = {
    ...(await orchestrator.rewardScales.executeWithOptions({ summary: 'read reward scales' }, [{ tasks: input.tasks }])),
    ...input.rewardScales,
  };

  setCurrentDetails(`generating ${input.ideasPerTask} diverse ideas for ${input.tasks.length} tasks…`);
  const ideaSets = await Promise.all(
    input.tasks.map((task) =>
      executeChild(generateIdeas, {
        workflowId: `${id}/ideas/${task}`,
        args: [{ task, k: input.ideasPerTask, seed: input.seed, minCandidates: input.minCandidates }],
      }),
    ),
  );

  const plan: { task: string; ideas: SeedIdea[]; seed: number; workflowId: string }[] = [];
  input.tasks.forEach((task, t) => {
    const chosen = ideaSets[t].chosen;
    const subsets = ideaSubsets({ ideaCount: chosen.length, episodes: input.episodesPerTask, ...input.ideasPerEpisode, seed: input.seed + t });
    for (let r = 0; r < input.repeats; r++) {
      subsets.forEach((subset, e) => {
        const ideas = subset.map((i) => ({ id: chosen[i].id, text: chosen[i].text, edits: chosen[i].edits }));
        plan.push({ task, ideas, seed: input.seed * 1000 + plan.length, workflowId: `${id}/episode/${task}/${e}-${r}` });
      });
    }
  });

  progress.stage = 'episodes';
  progress.total = plan.length;
  const episodes: CollectResult['episodes'] = [];
  const trajectories: ArtifactRef[] = [];
  const summaries: EpisodeSummary[] = [];
  const report = () => setCurrentDetails(progressMarkdown(input.tasks, plan.length, episodes));
  report();
  await forEachBounded(plan, input.concurrency, async (job) => {
    try {
      const summary = await executeChild(runEpisode, {
        workflowId: job.workflowId,
        args: [{ task: job.task, agent: { kind: 'scripted' }, seedIdeas: job.ideas, limits: input.limits, seed: job.seed, rewardScale: rewardScales[job.task] }],
      });
      summaries.push(summary);
      trajectories.push(summary.trajectory);
      episodes.push({ task: job.task, workflowId: job.workflowId, ideas: job.ideas.map((i) => i.id), ok: true, bestMetric: summary.bestMetric, steps: summary.steps });
    } catch (err) {
      episodes.push({ task: job.task, workflowId: job.workflowId, ideas: job.ideas.map((i) => i.id), ok: false, error: failureMessage(err) });
    }
    progress.done = episodes.length;
    progress.failed = episodes.filter((e) => !e.ok).length;
    report();
  });

  progress.stage = 'datasets';
  const raisedBest: Record<string, number> = {};
  for (const s of summaries) {
    if (s.bestMetric === null) continue;
    const raised = await datasets.raiseBestMetric({ task: s.task, metric: s.bestMetric, episodeId: s.episodeId });
    if (raised !== null) raisedBest[s.task] = raised;
  }
  const refs = await datasets.buildDatasets({ trajectories });
  const evaluations = summaries.reduce((n, s) => n + s.evaluations.total, 0);
  const hits = summaries.reduce((n, s) => n + s.evaluations.cached, 0);
  const result: CollectResult = {
    ...refs,
    episodes,
    rewardScales,
    raisedBest,
    sandboxSeconds: summaries.reduce((n, s) => n + s.sandboxSeconds, 0),
    metricCache: { evaluations, hits, hitRate: evaluations ? hits / evaluations : 0 },
  };
  progress.stage = 'done';
  setCurrentDetails(
    `${progressMarkdown(input.tasks, plan.length, episodes)}\n\nstates pool: ${refs.counts.states} states · SFT pairs: ${refs.counts.sftPairs} · metric-cache hit rate ${(result.metricCache.hitRate * 100).toFixed(0)}%`,
  );
  return result;
}

function progressMarkdown(tasks: string[], total: number, episodes: CollectResult['episodes']): string {
  const rows = tasks.map((t) => {
    const mine = episodes.filter((e) => e.task === t);
    const best = mine.map((e) => e.bestMetric).filter((m): m is number => typeof m === 'number');
    return `| ${t} | ${mine.filter((e) => e.ok).length} | ${mine.filter((e) => !e.ok).length} | ${best.length ? best.map((m) => +m.toFixed(4)).join(', ') : '-'} |`;
  });
  return [`**collect**: ${episodes.length}/${total} episodes done`, '', '| task | ok | failed | best metrics |', '|---|---|---|---|', ...rows].join('\n');
}
