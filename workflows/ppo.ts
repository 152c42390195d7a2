import {
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
import type { PpoUpdateResult } from '../activities/model/ppo';
import type { OrchestratorActivities, TaskInfo } from '../activities/orchestrator-activities';
import type { PpoActivities, PpoStartState } from '../activities/ppo-activities';
import type { ArtifactRef } from '../core/artifact-ref';
import type { RewardScale, StepKind } from '../core/episode-schema';
import { failureMessage } from '../core/failure-message';
import { forEachBounded } from '../core/for-each-bounded';
import { parseResponse } from '../core/parse-response';
import { phaseSeconds, PpoInput, PpoUpdateHyper, type PpoConfig, type PpoIterationMetrics } from '../core/ppo-schema';
import { MLAGENT_PPO_ITERATION, MLAGENT_PPO_MEAN_REWARD, MLAGENT_STAGE } from '../core/search-attributes';
import { closeWorkspace, openWorkspace, runActionRecovering, type HostTimeouts, type Workspace } from './sandbox-host';
import { proxyModelActivities } from './model-worker-lost';
import { rolloutEpisodes } from './ppo-episodes';
import { scoreAction } from './score-action';
import { parseWorkflowInput } from './validate-input';
import { closeOnceOpen, openUncancellable } from './workspace-handles';

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
    // workflow time (replay gives the same values): when each phase's result arrived
    const started = Date.now();
    const { rollouts, outcomes, generateMs } = input.mode === 'episodic' ? await rolloutEpisodes(batchParams) : await rolloutStates(batchParams);
    const rolledOut = Date.now();
    const update = await model.ppoUpdate.executeWithOptions({ summary: `iteration ${it + 1}: PPO update` }, [
      { policy, reference: input.checkpoint, rollouts, rewards: outcomes.map((o) => o?.reward ?? null), kinds: outcomes.map((o) => o?.kind ?? null), hyper: PpoUpdateHyper.parse(input), seed },
    ]);
    policy = update.policy;
    const seconds = { generate: generateMs / 1000, execute: (rolledOut - started - generateMs) / 1000, update: (Date.now() - rolledOut) / 1000 };
    const metrics = iterationMetrics({ iteration: it, outcomes, update, seconds });
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
  /** Workflow time spent waiting on the policy's rollout calls. */
  generateMs: number;
}

/**
 * Step-wise rollout: B pool states, n actions from each, every action executed once from its restored state, at most
 * `concurrency` at a time. A restore does not depend on its action, so the first lanes' containers open while the
 * policy generates, and a container is removed as soon as its action ran, without holding its lane.
 */
async function rolloutStates(p: RolloutParams): Promise<RolloutBatch> {
  const { input, iteration: it } = p;
  const states = await orchestrator.ppoSampleStates.executeWithOptions({ summary: `iteration ${it + 1}: sample states` }, [
    { statesPool: input.statesPool, count: input.statesPerIteration, seed: p.seed },
  ]);
  const stateOf = (i: number) => states[Math.floor(i / input.actionsPerState)];
  const actionOf = (i: number) => ({ input, state: stateOf(i), task: p.infos.get(stateOf(i).task)!, label: `${it}/${i}` });
  // Runs recorded before the pipelined sandbox work replay as they ran (test/fixtures/histories): without `restores`.
  const restores = patched('ppo-stepwise-pipelined-sandbox') ? new Map<number, Restore>() : undefined;
  const restore = (i: number): Restore => {
    let r = restores!.get(i);
    if (!r) restores!.set(i, (r = new Restore(restoreState(actionOf(i)))));
    return r;
  };
  if (restores) for (let i = 0; i < Math.min(input.concurrency, states.length * input.actionsPerState); i++) restore(i);
  try {
    const generating = Date.now();
    const rollout = await sampling(input).ppoRollout.executeWithOptions({ summary: `iteration ${it + 1}: sample actions` }, [
      { policy: p.policy, states: states.map((s) => s.promptState), actionsPerState: input.actionsPerState, temperature: input.temperature, maxNewTokens: input.maxNewTokens, decoding: input.decoding, workspaces: states.map((s) => s.snapshot), seed: p.seed },
    ]);
    const generateMs = Date.now() - generating;
    const outcomes: (ActionOutcome | undefined)[] = new Array(rollout.responses.length);
    await forEachBounded(rollout.responses.map((_, i) => i), input.concurrency, async (i) => {
      outcomes[i] = await actOnce({ ...actionOf(i), rewardScale: p.rewardScales[stateOf(i).task], response: rollout.responses[i], early: restores?.get(i), restore: restores && (() => restore(i)) });
    });
    return { rollouts: rollout.rollouts, outcomes, generateMs };
  } finally {
    // every container restored, also one still being created when the rollout failed
    await Promise.all([...(restores?.values() ?? [])].map((r) => r.close()));
  }
}

/** A container restored for one action: opened uncancellably, closed once (as soon as its action ran, or with the rollout). */
class Restore {
  private closed?: Promise<void>;
  constructor(readonly ws: Promise<Workspace>) {}
  close(): Promise<void> {
    return (this.closed ??= closeOnceOpen(this.ws));
  }
}

/**
 * Executes one sampled action once, in a fresh container restored from the state's snapshot, and rewards it: with
 * `restore`, its container comes from there (`early` when it was opened while the policy generated) and is closed
 * as soon as the action ran; without, as runs before it did, it is opened here and closed after the reward. A lost
 * host or container moves the action, with the state, to another host (as episodes fail over), so the batch stays
 * whole. Only an action that no sandbox could run, even so, is left out of the update (the policy is not to blame
 * for it): undefined then.
 */
async function actOnce(p: {
  input: PpoConfig;
  state: PpoStartState;
  task: TaskInfo;
  rewardScale: RewardScale;
  response: string;
  label: string;
  early?: Restore;
  restore?: () => Restore;
}): Promise<ActionOutcome | undefined> {
  const parsed = parseResponse(p.response);
  if (!parsed.ok) {
    void p.early?.close();
    return { kind: 'invalid', reward: 0 };
  }
  const episodeId = `${workflowInfo().workflowId}/${p.label}`;
  const restored = p.restore?.();
  let ws: Workspace | undefined;
  try {
    ws = restored ? await restored.ws : (await openWorkspace({ args: restoreArgs(p), timeouts: hostTimeouts(p), summary: 'restore state' })).ws;
    const result = await runActionRecovering({
      ws,
      timeouts: hostTimeouts(p),
      summary: parsed.action.name,
      args: { episodeId, task: p.task.name, action: parsed.action, state: p.state.snapshot, observationChars: p.input.observationChars, scriptTimeoutSec: p.input.scriptTimeoutSec },
    });
    // removed while the edit is scored
    void restored?.close();
    const scored = await scoreAction({
      task: p.task, rewardScale: p.rewardScale, metricBefore: p.state.metric, actionName: parsed.action.name, result, scriptTimeoutSec: p.input.scriptTimeoutSec,
    });
    return { kind: scored.kind, reward: scored.reward };
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn(`ppo: action ${p.label} (${parsed.action.name} on ${p.task.name}) left out: ${failureMessage(err)}`);
    return undefined;
  } finally {
    if (ws && !restored) await closeWorkspace(ws);
  }
}

function restoreArgs(p: { state: PpoStartState; task: TaskInfo; label: string }) {
  return { task: p.task.name, episodeId: `${workflowInfo().workflowId}/${p.label}`, snapshot: p.state.snapshot };
}

function restoreState(p: { input: PpoConfig; state: PpoStartState; task: TaskInfo; label: string }): Promise<Workspace> {
  return openUncancellable({ args: restoreArgs(p), timeouts: hostTimeouts(p), summary: 'restore state' });
}

function hostTimeouts(p: { input: PpoConfig; task: TaskInfo }): HostTimeouts {
  return { actionTimeoutSec: (p.input.scriptTimeoutSec ?? p.task.scriptTimeoutSec) + 120, hostLostAfterSec: p.input.hostLostAfterSec };
}

function iterationMetrics(p: { iteration: number; outcomes: (ActionOutcome | undefined)[]; update: PpoUpdateResult; seconds: PpoIterationMetrics['seconds'] }): PpoIterationMetrics {
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
    seconds: p.seconds,
  };
}

function detailsMarkdown(p: PpoProgress): string {
  const rows = p.metrics.map(
    (m) =>
      `| ${m.iteration + 1} | ${m.meanReward.toFixed(3)} | ${Object.entries(m.kinds).map(([k, n]) => `${k} ${n}`).join(', ')} | ${m.approxKl.toFixed(4)} | ${m.refKl.toFixed(4)} | ${m.clipFraction.toFixed(2)} | ${m.valueLoss.toFixed(4)} | ${m.entropy.toFixed(2)} | ${phaseSeconds(m)} |`,
  );
  return [
    `**ppo**: ${p.iteration}/${p.iterations} iterations${p.stopRequested ? ' (stopping)' : ''}`,
    '',
    '| iteration | mean reward | outcomes | KL old→new | KL to ref | clip frac | value loss | entropy | s generate / execute / update |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

