import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  type ActivityInterfaceFor,
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
import type { SandboxActivities } from '../activities/sandbox-activities';
import type { ArtifactRef } from '../core/artifact-ref';
import { EpisodeInput, type EpisodeConfig, type EpisodeSummary, type HistoryEntry, type RewardScale } from '../core/episode-schema';
import type { TokenUsage } from '../core/llm-schemas';
import { parseResponse } from '../core/parse-response';
import { promptState } from '../core/prompt';
import { MODEL_QUEUE, SANDBOX_QUEUE } from '../core/queues';
import { MLAGENT_STAGE, MLAGENT_TASK } from '../core/search-attributes';
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
const sandboxPool = proxyActivities<SandboxActivities>({
  taskQueue: SANDBOX_QUEUE,
  startToCloseTimeout: '20 minutes',
  heartbeatTimeout: '5 minutes',
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
  const opened = await sandboxPool.openWorkspace.executeWithOptions(
    { taskQueue: SANDBOX_QUEUE, startToCloseTimeout: '10 minutes', summary: 'open workspace' },
    [{ task: task.name, episodeId }],
  );
  const ws: Workspace = { containerId: opened.containerId, onHost: hostActivities(opened.hostQueue, timeouts) };

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
        state = { snapshot: record.snapshotAfter, metric: nextMetric(record, state.metric) };
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
    await CancellationScope.nonCancellable(() =>
      ws.onHost.closeWorkspace.executeWithOptions({ startToCloseTimeout: '2 minutes', summary: 'close workspace' }, [{ containerId: ws.containerId }]),
    );
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
      ? await model.policyAct.executeWithOptions({ summary }, [
          {
            checkpoint: input.agent.checkpoint,
            state: promptState({ researchProblem: task.researchProblem, seedIdeas: input.seedIdeas, history: p.history }),
            temperature: input.agent.temperature,
            maxNewTokens: input.agent.maxNewTokens,
            decoding: input.agent.decoding,
            seed: input.seed * 1000 + step,
          },
        ])
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

/** How long one action may run, and how long its host may leave it unstarted before the host counts as lost. */
interface HostTimeouts {
  actionTimeoutSec: number;
  hostLostAfterSec: number;
}

/** Where the episode's workspace lives now; it moves when its container or host is lost. */
interface Workspace {
  containerId: string;
  onHost: ActivityInterfaceFor<SandboxActivities>;
}

/**
 * Activities on the host that holds the container. A dead worker is noticed by the heartbeat timeout (the
 * retry restores the state in a fresh container); a dead host by the schedule-to-start timeout.
 */
function hostActivities(hostQueue: string, t: HostTimeouts): ActivityInterfaceFor<SandboxActivities> {
  return proxyActivities<SandboxActivities>({
    taskQueue: hostQueue,
    startToCloseTimeout: `${t.actionTimeoutSec} seconds`,
    scheduleToStartTimeout: `${t.hostLostAfterSec} seconds`,
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 3 },
  });
}

type RunActionArgs = Omit<Parameters<SandboxActivities['runAction']>[0], 'containerId'>;

/** Runs the action; if its container or host is gone, reopens the state on any sandbox host and runs it there. */
async function runActionRecovering(p: { ws: Workspace; timeouts: HostTimeouts; summary: string; args: RunActionArgs }) {
  for (let reopened = 0; ; reopened++) {
    try {
      const result = await p.ws.onHost.runAction.executeWithOptions({ summary: p.summary }, [{ ...p.args, containerId: p.ws.containerId }]);
      p.ws.containerId = result.containerId;
      return result;
    } catch (err) {
      if (reopened >= 2 || !workspaceLost(err)) throw err;
      const again = await sandboxPool.openWorkspace.executeWithOptions(
        { startToCloseTimeout: '10 minutes', summary: 'reopen workspace from the last state' },
        [{ task: p.args.task, episodeId: p.args.episodeId, snapshot: p.args.state }],
      );
      p.ws.containerId = again.containerId;
      p.ws.onHost = hostActivities(again.hostQueue, p.timeouts);
    }
  }
}

function workspaceLost(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure) return cause.type === 'SandboxGone';
  return cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START';
}

/** m_t moves when the code changed (its evaluation, even a failed one) or when a run was scored. */
function nextMetric(record: CompactStep, prev: number | null): number | null {
  const changed = record.action?.name === 'Edit Script' || record.action?.name === 'Edit Script (AI)' || record.action?.name === 'Undo Edit Script';
  if (changed && record.kind !== 'error') return record.metricAfter;
  return record.metricAfter ?? prev;
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
