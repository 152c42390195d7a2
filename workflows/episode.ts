import {
  CancellationScope,
  defineQuery,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrchestratorActivities, CompactStep, TaskInfo } from '../activities/orchestrator-activities';
import type * as modelActivities from '../activities/model';
import type { ArtifactRef } from '../core/artifact-ref';
import { EpisodeInput, type EpisodeConfig, type EpisodeSummary, type HistoryEntry, type RewardScale } from '../core/episode-schema';
import type { TokenUsage } from '../core/llm-schemas';
import { nextMetric } from '../core/next-metric';
import { parseResponse } from '../core/parse-response';
import { promptState } from '../core/prompt';
import { MODEL_QUEUE } from '../core/queues';
import { MLAGENT_STAGE, MLAGENT_TASK } from '../core/search-attributes';
import { closeWorkspace, openWorkspace, runActionRecovering, type HostTimeouts, type Workspace } from './sandbox-host';
import { failIfModelWorkerLost } from './model-worker-lost';
import { scoreAction } from './score-action';
import { parseWorkflowInput } from './validate-input';

const orchestrator = proxyActivities<OrchestratorActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5 },
});
/** The trained policy answers on the model worker's queue. */
const model = proxyActivities<typeof modelActivities>({
  taskQueue: MODEL_QUEUE,
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 5 },
});

export interface EpisodeProgress {
  task: string;
  step: number;
  maxSteps: number;
  /** The m_init and m_best every reward of this episode uses. */
  rewardScale: RewardScale;
  steps: { step: number; action: string; kind: string; reward: number | null; metric: number | null; seconds: number }[];
  done: boolean;
}
export const episodeProgressQuery = defineQuery<EpisodeProgress>('progress');

/**
 * One agent episode (DESIGN.md): ≤ maxSteps actions and ≤ maxMinutes. Every decision and every
 * environment action is its own activity, summarised by the action's name, so the history audits it.
 */
export async function runEpisode(raw: EpisodeInput): Promise<EpisodeSummary> {
  const input = parseWorkflowInput(EpisodeInput, raw, 'runEpisode');
  const episodeId = workflowInfo().workflowId;
  upsertSearchAttributes([
    { key: MLAGENT_TASK, value: input.task },
    { key: MLAGENT_STAGE, value: 'episode' },
  ]);
  const task = await orchestrator.taskInfo({ task: input.task });
  const rewardScale: RewardScale = input.rewardScale ?? { mInit: task.mInit, mBest: task.mBest };
  const progress: EpisodeProgress = { task: task.name, step: 0, maxSteps: input.limits.maxSteps, rewardScale, steps: [], done: false };
  setHandler(episodeProgressQuery, () => progress);

  const timeouts: HostTimeouts = { actionTimeoutSec: (input.limits.scriptTimeoutSec ?? task.scriptTimeoutSec) + 120, hostLostAfterSec: input.limits.hostLostAfterSec };
  const opened = await openWorkspace({ args: { task: task.name, episodeId }, timeouts, summary: 'open workspace' });
  const { ws } = opened;

  const steps: CompactStep[] = [];
  /** The workspace now: its latest snapshot and metric (m_t). */
  let state: { snapshot: ArtifactRef; metric: number | null } = { snapshot: opened.snapshot, metric: rewardScale.mInit };
  const usage = { sandboxSeconds: 0, evaluations: { total: 0, cached: 0 } };
  let endReason: EpisodeSummary['endReason'] = 'max_steps';
  try {
    const history: HistoryEntry[] = [];
    // One timer for the whole episode: when it fires, the step in flight is cancelled and the episode ends.
    await CancellationScope.withTimeout(input.limits.maxMinutes * 60_000, async () => {
      for (let step = 0; step < input.limits.maxSteps; step++) {
        const record = await runStep({ input, task, rewardScale, step, history, state, ws, timeouts, usage });
        steps.push(record);
        history.push({ response: record.response, observation: record.observation });
        state = { snapshot: record.snapshotAfter, metric: nextMetric({ actionName: record.action?.name, kind: record.kind, metricAfter: record.metricAfter }, state.metric) };
        progress.step = step + 1;
        progress.steps.push({
          step: record.step,
          action: record.action?.name ?? 'invalid',
          kind: record.kind,
          reward: record.reward,
          metric: state.metric,
          seconds: record.seconds,
        });
        setCurrentDetails(detailsMarkdown(task, progress));
        if (record.action?.name === 'Final Answer') {
          endReason = 'final_answer';
          return;
        }
      }
    }).catch((err: unknown) => {
      if (!isCancellation(err)) throw err;
      endReason = 'time_limit';
    });
  } finally {
    // Runs even when the episode is cancelled, so no container outlives its episode.
    await closeWorkspace(ws);
  }
  const trajectory = await orchestrator.writeTrajectory.executeWithOptions(
    { startToCloseTimeout: '2 minutes', summary: 'write trajectory' },
    [{ episodeId, task: task.name, seedIdeas: input.seedIdeas, steps }],
  );
  progress.done = true;
  const metrics = steps.map((s) => s.metricAfter).filter((m): m is number => m !== null);
  const better = (a: number, b: number) => (task.higherIsBetter ? a > b : a < b);
  return {
    episodeId,
    task: task.name,
    steps: steps.length,
    validActions: steps.filter((s) => s.kind !== 'invalid').length,
    actionsWithoutError: steps.filter((s) => s.kind !== 'invalid' && s.kind !== 'error').length,
    endReason,
    initialMetric: rewardScale.mInit,
    rewardScale,
    finalMetric: state.metric,
    bestMetric: metrics.reduce<number | null>((best, m) => (best === null || better(m, best) ? m : best), null),
    trajectory,
    ...usage,
  };
}

async function runStep(p: {
  input: EpisodeConfig;
  task: TaskInfo;
  rewardScale: RewardScale;
  step: number;
  history: HistoryEntry[];
  state: { snapshot: ArtifactRef; metric: number | null };
  ws: Workspace;
  timeouts: HostTimeouts;
  usage: { sandboxSeconds: number; evaluations: { total: number; cached: number } };
}): Promise<CompactStep> {
  const { input, task, step, state } = p;
  const startedAt = new Date(Date.now()).toISOString();
  const t0 = Date.now();
  const summary = `agent decides step ${step + 1}`;
  const decided =
    input.agent.kind === 'policy'
      ? await model.policyAct.executeWithOptions({ summary, scheduleToStartTimeout: `${input.limits.modelWorkerLostAfterSec} seconds` }, [
          {
            checkpoint: input.agent.checkpoint,
            state: promptState({ researchProblem: task.researchProblem, seedIdeas: input.seedIdeas, history: p.history }),
            temperature: input.agent.temperature,
            maxNewTokens: input.agent.maxNewTokens,
            decoding: input.agent.decoding,
            workspace: state.snapshot,
            seed: input.seed * 1000 + step,
          },
        ]).catch(failIfModelWorkerLost(input.limits.modelWorkerLostAfterSec))
      : await orchestrator.decideAction.executeWithOptions({ startToCloseTimeout: '10 minutes', summary }, [
          { agent: input.agent, task, step, history: p.history, seedIdeas: input.seedIdeas, seed: input.seed },
        ]);
  const { response } = decided;
  const parsed = parseResponse(response);
  const base = { step, state, response, startedAt, rewardScale: p.rewardScale };
  if (!parsed.ok) {
    return {
      ...base,
      ...tokenUsage(decided.usage),
      action: null,
      observation: `Invalid action: ${parsed.error}`,
      kind: 'invalid',
      metricAfter: null,
      reward: 0,
      snapshotAfter: state.snapshot,
      seconds: (Date.now() - t0) / 1000,
    };
  }
  const result = await runActionRecovering({
    ws: p.ws,
    timeouts: p.timeouts,
    summary: parsed.action.name,
    args: {
      episodeId: workflowInfo().workflowId,
      task: task.name,
      action: parsed.action,
      state: state.snapshot,
      observationChars: input.limits.observationChars,
      scriptTimeoutSec: input.limits.scriptTimeoutSec,
    },
  });
  p.usage.sandboxSeconds += result.seconds;
  const { kind, metricAfter, reward, evaluation } = await scoreAction({
    task, rewardScale: p.rewardScale, metricBefore: state.metric, actionName: parsed.action.name, result, scriptTimeoutSec: input.limits.scriptTimeoutSec,
  });
  if (evaluation) {
    p.usage.evaluations.total++;
    if (evaluation.cached) p.usage.evaluations.cached++;
    else p.usage.sandboxSeconds += evaluation.seconds;
  }
  return {
    ...base,
    ...tokenUsage(decided.usage, result.usage),
    action: parsed.action,
    observation: result.observation,
    kind,
    metricAfter,
    reward,
    snapshotAfter: result.snapshotAfter,
    seconds: (Date.now() - t0) / 1000,
  };
}

/** The step's LLM token usage (the decision's, then the action's), or nothing: scripted steps stay as they were. */
function tokenUsage(decision: TokenUsage | undefined, action: TokenUsage[] = []): { usage?: TokenUsage[] } {
  const usage = [...(decision ? [decision] : []), ...action];
  return usage.length > 0 ? { usage } : {};
}

function detailsMarkdown(task: TaskInfo, p: EpisodeProgress): string {
  const rows = p.steps.map((s) => `| ${s.step + 1} | ${s.action} | ${s.kind} | ${s.reward?.toFixed(3) ?? '-'} | ${s.metric ?? '-'} |`);
  return [
    `**${task.name}** (${task.metricName}, ${task.higherIsBetter ? 'higher' : 'lower'} is better; starter ${p.rewardScale.mInit}, best known ${p.rewardScale.mBest}) — step ${p.step}/${p.maxSteps}`,
    '',
    '| step | action | outcome | reward | metric |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
