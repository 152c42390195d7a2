import {
  CancellationScope,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type * as modelActivities from '../activities/model';
import type { PpoRolloutResult, PpoUpdateResult } from '../activities/model/ppo';
import type { OrchestratorActivities, TaskInfo } from '../activities/orchestrator-activities';
import type { PpoActivities, PpoStartState } from '../activities/ppo-activities';
import type { ArtifactRef } from '../core/artifact-ref';
import type { RewardScale, StepKind } from '../core/episode-schema';
import { failureMessage } from '../core/failure-message';
import { forEachBounded } from '../core/for-each-bounded';
import { parseResponse } from '../core/parse-response';
import { PpoInput, PpoUpdateHyper, type PpoConfig, type PpoIterationMetrics } from '../core/ppo-schema';
import { MLAGENT_PPO_ITERATION, MLAGENT_PPO_MEAN_REWARD, MLAGENT_STAGE } from '../core/search-attributes';
import { closeWorkspace, openWorkspace, runActionRecovering, type HostTimeouts, type Workspace } from './sandbox-host';
import { proxyModelActivities } from './model-worker-lost';
import { rolloutEpisodes } from './ppo-episodes';
import { scoreAction } from './score-action';
import { parseWorkflowInput } from './validate-input';

const orchestrator = proxyActivities<OrchestratorActivities & PpoActivities>({ startToCloseTimeout: '5 minutes', retry: { maximumAttempts: 5 } });
const sampling = (input: PpoConfig) =>
  proxyModelActivities<typeof modelActivities>({ options: { startToCloseTimeout: '1 hour', retry: { maximumAttempts: 5 } }, lostAfterSec: input.modelWorkerLostAfterSec });

export interface PpoProgress {
  /** Iterations finished, over all runs of the chain. */
  iteration: number;
  iterations: number;
  /** This run's iterations (earlier runs' are in `metricsLog`). */
  metrics: PpoIterationMetrics[];
  metricsLog?: ArtifactRef;
  stopRequested: boolean;
}
export const ppoProgressQuery = defineQuery<PpoProgress>('progress');
/** Stops the run after the iteration in progress (its update is kept). */
export const stopPpoSignal = defineSignal('stop');

export interface PpoResult {
  policy: ArtifactRef;
  iterations: number;
  /** JSONL, one PpoIterationMetrics a line, every iteration of the chain. */
  metricsLog: ArtifactRef;
  rewardScales: Record<string, RewardScale>;
  stopped: boolean;
}

/**
 * ML-Agent stage 4, step-wise PPO: each iteration samples B pool states (stratified by task), samples n actions
 * per state from the policy (model queue), executes each once from its restored state and rewards it with the
 * reward module (sandbox queue), then takes PPO steps (model queue). Every `continueAsNewEvery` iterations the
 * run continues as new, carrying only refs and counters.
 */
export async function ppo(raw: PpoInput): Promise<PpoResult> {
  const input = parseWorkflowInput(PpoInput, raw, 'ppo');
  upsertSearchAttributes([{ key: MLAGENT_STAGE, value: 'ppo' }]);
  const model = proxyModelActivities<typeof modelActivities>({
    options: { startToCloseTimeout: '1 day', heartbeatTimeout: input.heartbeatTimeoutSeconds * 1000, retry: { maximumAttempts: 5 } },
    lostAfterSec: input.modelWorkerLostAfterSec,
  });

  const first = input.resume?.iteration ?? 0;
  const progress: PpoProgress = { iteration: first, iterations: input.iterations, metrics: [], metricsLog: input.resume?.metricsLog, stopRequested: false };
  setHandler(ppoProgressQuery, () => progress);
  setHandler(stopPpoSignal, () => {
    progress.stopRequested = true;
  });
  const tasks = await orchestrator.ppoPoolTasks({ statesPool: input.statesPool });
  const infos = new Map((await Promise.all(tasks.map((task) => orchestrator.taskInfo({ task })))).map((t) => [t.name, t]));
  // Read once for the whole chain (continue-as-new carries them): rewards stay comparable across iterations.
  const rewardScales = input.resume?.rewardScales ?? input.rewardScales ?? (await orchestrator.rewardScales({ tasks }));
  let policy = input.resume?.policy ?? input.checkpoint;
  const saveMetrics = async () => {
    progress.metricsLog = await orchestrator.ppoAppendMetrics({ log: progress.metricsLog, iterations: progress.metrics });
    return progress.metricsLog;
  };

  for (let it = first; it < input.iterations && !progress.stopRequested; it++) {
    if (it - first === input.continueAsNewEvery) {
      const metricsLog = await saveMetrics();
      return continueAsNew<typeof ppo>({ ...input, resume: { iteration: it, policy, rewardScales, metricsLog } });
    }
    const seed = input.seed * 100_003 + it;
    const batchParams: RolloutParams = { input, infos, rewardScales, policy, seed, iteration: it };
    const { rollouts, outcomes } = input.mode === 'episodic' ? await rolloutEpisodes(batchParams) : await rolloutStates(batchParams);
    const update = await model.ppoUpdate.executeWithOptions({ summary: `iteration ${it + 1}: PPO update` }, [
      { policy, reference: input.checkpoint, rollouts, rewards: outcomes.map((o) => o?.reward ?? null), kinds: outcomes.map((o) => o?.kind ?? null), hyper: PpoUpdateHyper.parse(input), seed },
    ]);
    policy = update.policy;
    const metrics = iterationMetrics({ iteration: it, outcomes, update });
    progress.metrics.push(metrics);
    progress.iteration = it + 1;
    upsertSearchAttributes([
      { key: MLAGENT_PPO_ITERATION, value: progress.iteration },
      { key: MLAGENT_PPO_MEAN_REWARD, value: metrics.meanReward },
    ]);
    setCurrentDetails(detailsMarkdown(progress));
  }
  return { policy, iterations: progress.iteration, metricsLog: await saveMetrics(), rewardScales, stopped: progress.stopRequested };
}

export interface ActionOutcome {
  kind: StepKind;
  reward: number;
}

/** What one iteration's rollout needs, in either mode. */
export interface RolloutParams {
  input: PpoConfig;
  infos: Map<string, TaskInfo>;
  rewardScales: Record<string, RewardScale>;
  policy: ArtifactRef;
  seed: number;
  iteration: number;
}

/** One iteration's sampled actions (token ids in the store) and their outcomes, row for row; undefined = left out. */
export interface RolloutBatch {
  rollouts: ArtifactRef;
  outcomes: (ActionOutcome | undefined)[];
}

/**
 * Step-wise rollout: B pool states, n actions from each, every action executed once from its restored state, at most
 * `concurrency` at a time. A restore does not depend on its action, so the first lanes' containers open while the
 * policy generates, and a container is removed without holding its lane (all before the rollout returns).
 */
async function rolloutStates(p: RolloutParams): Promise<RolloutBatch> {
  const { input, iteration: it } = p;
  const states = await orchestrator.ppoSampleStates.executeWithOptions({ summary: `iteration ${it + 1}: sample states` }, [
    { statesPool: input.statesPool, count: input.statesPerIteration, seed: p.seed },
  ]);
  const stateOf = (i: number) => states[Math.floor(i / input.actionsPerState)];
  // Runs recorded before the pipelined sandbox work replay as they ran (test/fixtures/histories).
  const pipelined = patched('ppo-stepwise-pipelined-sandbox');
  const early = Array.from({ length: pipelined ? Math.min(input.concurrency, states.length * input.actionsPerState) : 0 }, (_, i) =>
    handled(restoreState({ input, state: stateOf(i), task: p.infos.get(stateOf(i).task)!, label: `${it}/${i}` })),
  );
  let rollout: PpoRolloutResult;
  try {
    rollout = await sampling(input).ppoRollout.executeWithOptions({ summary: `iteration ${it + 1}: sample actions` }, [
      { policy: p.policy, states: states.map((s) => s.promptState), actionsPerState: input.actionsPerState, temperature: input.temperature, maxNewTokens: input.maxNewTokens, decoding: input.decoding, workspaces: states.map((s) => s.snapshot), seed: p.seed },
    ]);
  } catch (err) {
    await Promise.all(early.map(closeOnceOpen));
    throw err;
  }
  const outcomes: (ActionOutcome | undefined)[] = new Array(rollout.responses.length);
  const closing: Promise<void>[] = [];
  try {
    await forEachBounded(rollout.responses.map((_, i) => i), input.concurrency, async (i) => {
      const state = stateOf(i);
      outcomes[i] = await actOnce({ input, state, task: p.infos.get(state.task)!, rewardScale: p.rewardScales[state.task], response: rollout.responses[i], label: `${it}/${i}`, restored: early[i], closing: pipelined ? closing : undefined });
    });
  } finally {
    await Promise.all(closing);
  }
  return { rollouts: rollout.rollouts, outcomes };
}

/**
 * Executes one sampled action once, in a fresh container restored from the state's snapshot (`restored`, when it
 * was opened early), and rewards it; its container's close goes to `closing` as soon as the action ran (without
 * `closing`, as runs before it did: awaited after the reward). A lost host or container moves the action, with the
 * state, to another host (as episodes fail over), so the batch stays whole. Only an action that no sandbox could
 * run, even so, is left out of the update (the policy is not to blame for it): undefined then.
 */
async function actOnce(p: {
  input: PpoConfig;
  state: PpoStartState;
  task: TaskInfo;
  rewardScale: RewardScale;
  response: string;
  label: string;
  restored?: Promise<Workspace>;
  closing?: Promise<void>[];
}): Promise<ActionOutcome | undefined> {
  const parsed = parseResponse(p.response);
  if (!parsed.ok) {
    if (p.restored) p.closing?.push(closeOnceOpen(p.restored));
    return { kind: 'invalid', reward: 0 };
  }
  const episodeId = `${workflowInfo().workflowId}/${p.label}`;
  let ws: Workspace | undefined;
  try {
    ws = await (p.restored ?? restoreState(p));
    const result = await runActionRecovering({
      ws,
      timeouts: hostTimeouts(p),
      summary: parsed.action.name,
      args: { episodeId, task: p.task.name, action: parsed.action, state: p.state.snapshot, observationChars: p.input.observationChars, scriptTimeoutSec: p.input.scriptTimeoutSec },
    });
    if (p.closing) {
      // the action is done with its container: it is removed while the edit is scored
      p.closing.push(handled(closeWorkspace(ws)));
      ws = undefined;
    }
    const scored = await scoreAction({
      task: p.task, rewardScale: p.rewardScale, metricBefore: p.state.metric, actionName: parsed.action.name, result, scriptTimeoutSec: p.input.scriptTimeoutSec,
    });
    return { kind: scored.kind, reward: scored.reward };
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn(`ppo: action ${p.label} (${parsed.action.name} on ${p.task.name}) left out: ${failureMessage(err)}`);
    return undefined;
  } finally {
    if (ws && p.closing) p.closing.push(handled(closeWorkspace(ws)));
    else if (ws) await closeWorkspace(ws);
  }
}

/** A fresh container restored from the state's snapshot; not cancellable, so one being created is still closed. */
function restoreState(p: { input: PpoConfig; state: PpoStartState; task: TaskInfo; label: string }): Promise<Workspace> {
  const args = { task: p.task.name, episodeId: `${workflowInfo().workflowId}/${p.label}`, snapshot: p.state.snapshot };
  return CancellationScope.nonCancellable(async () => (await openWorkspace({ args, timeouts: hostTimeouts(p), summary: 'restore state' })).ws);
}

function hostTimeouts(p: { input: PpoConfig; task: TaskInfo }): HostTimeouts {
  return { actionTimeoutSec: (p.input.scriptTimeoutSec ?? p.task.scriptTimeoutSec) + 120, hostLostAfterSec: p.input.hostLostAfterSec };
}

/** Closes a container once it is open (one that failed to open needs nothing). */
function closeOnceOpen(ws: Promise<Workspace>): Promise<void> {
  return handled(ws.then(closeWorkspace, () => undefined));
}

/** The promise, its rejection marked as handled: it is awaited later, and an unhandled one fails the workflow task. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function iterationMetrics(p: { iteration: number; outcomes: (ActionOutcome | undefined)[]; update: PpoUpdateResult }): PpoIterationMetrics {
  const done = p.outcomes.filter((o): o is ActionOutcome => o !== undefined);
  const kinds: Record<string, number> = {};
  for (const o of done) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
  return {
    ...p.update.metrics,
    iteration: p.iteration,
    meanReward: done.length ? done.reduce((a, o) => a + o.reward, 0) / done.length : 0,
    kinds,
    leftOut: p.outcomes.length - done.length,
    policy: p.update.policy,
  };
}

function detailsMarkdown(p: PpoProgress): string {
  const rows = p.metrics.map(
    (m) =>
      `| ${m.iteration + 1} | ${m.meanReward.toFixed(3)} | ${Object.entries(m.kinds).map(([k, n]) => `${k} ${n}`).join(', ')} | ${m.approxKl.toFixed(4)} | ${m.refKl.toFixed(4)} | ${m.clipFraction.toFixed(2)} | ${m.valueLoss.toFixed(4)} | ${m.entropy.toFixed(2)} |`,
  );
  return [
    `**ppo**: ${p.iteration}/${p.iterations} iterations${p.stopRequested ? ' (stopping)' : ''}`,
    '',
    '| iteration | mean reward | outcomes | KL old→new | KL to ref | clip frac | value loss | entropy |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
