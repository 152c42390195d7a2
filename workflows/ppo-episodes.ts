import { CancellationScope, isCancellation, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as modelActivities from '../activities/model';
import type { OrchestratorActivities, TaskInfo } from '../activities/orchestrator-activities';
import type { PpoActivities, PpoStartState } from '../activities/ppo-activities';
import type { ArtifactRef } from '../core/artifact-ref';
import type { HistoryEntry } from '../core/episode-schema';
import { failureMessage } from '../core/failure-message';
import { forEachBounded } from '../core/for-each-bounded';
import { nextMetric } from '../core/next-metric';
import { parseResponse } from '../core/parse-response';
import type { PpoConfig } from '../core/ppo-schema';
import { promptState, type PromptState } from '../core/prompt';
import { proxyModelActivities } from './model-worker-lost';
import type { ActionOutcome, RolloutBatch, RolloutParams } from './ppo';
import { runActionRecovering, type Workspace } from './sandbox-host';
import { scoreAction } from './score-action';
import { closeOnceOpen, openUncancellable } from './workspace-handles';

const orchestrator = proxyActivities<OrchestratorActivities & PpoActivities>({ startToCloseTimeout: '5 minutes', retry: { maximumAttempts: 5 } });
const sampling = (input: PpoConfig) =>
  proxyModelActivities<typeof modelActivities>({ options: { startToCloseTimeout: '1 hour', retry: { maximumAttempts: 5 } }, lostAfterSec: input.modelWorkerLostAfterSec });

/** One episode of the batch: where it started, where its workspace is, what it has done so far. */
interface Episode {
  id: string;
  start: PpoStartState;
  task: TaskInfo;
  /** Opened at the first valid action (invalid ones need no container); one container for all its steps. */
  ws?: Promise<Workspace>;
  snapshot: ArtifactRef;
  metric: number | null;
  history: HistoryEntry[];
  done: boolean;
}

/**
 * Episodic PPO's rollout, the baseline of step-wise PPO: B episodes from the pool's initial states, all acting in
 * lock-step so each step's actions are one batched `ppoRollout`; every action runs in its episode's container and is
 * rewarded by the same `scoreAction` as step-wise ones. Rows are step-major (step 0 of every episode, then step 1 of
 * those still going, …), joined into one rollouts artifact for the same `ppoUpdate`. An episode ends at Final Answer,
 * after `maxSteps` or `maxMinutes`, or when no sandbox could run its action (that action is left out, as step-wise).
 */
export async function rolloutEpisodes(p: RolloutParams): Promise<RolloutBatch> {
  const { input, iteration: it } = p;
  const starts = await orchestrator.ppoSampleStates.executeWithOptions({ summary: `iteration ${it + 1}: sample initial states` }, [
    { statesPool: input.statesPool, count: input.statesPerIteration, seed: p.seed, initialOnly: true },
  ]);
  const episodes: Episode[] = starts.map((start, e) => ({
    id: `${workflowInfo().workflowId}/${it}/${e}`, start, task: p.infos.get(start.task)!, snapshot: start.snapshot, metric: start.metric, history: [], done: false,
  }));
  const parts: ArtifactRef[] = [];
  const outcomes: (ActionOutcome | undefined)[] = [];
  let generateMs = 0;
  try {
    const steps = async () => {
      for (let step = 0; step < input.maxSteps; step++) {
        const live = episodes.filter((e) => !e.done);
        if (live.length === 0) break;
        const generating = Date.now();
        const rollout = await sampling(input).ppoRollout.executeWithOptions({ summary: `iteration ${it + 1}: step ${step + 1} actions` }, [
          // seeds of one iteration's steps stay below the next iteration's (maxSteps ≤ 50)
          { policy: p.policy, states: live.map(statePrompt), actionsPerState: 1, temperature: input.temperature, maxNewTokens: input.maxNewTokens, decoding: input.decoding, workspaces: live.map((e) => e.snapshot), seed: p.seed * 64 + step },
        ]);
        generateMs += Date.now() - generating;
        parts.push(rollout.rollouts);
        const first = outcomes.length;
        outcomes.push(...live.map(() => undefined));
        await forEachBounded(live.map((_, i) => i), input.concurrency, async (i) => {
          outcomes[first + i] = await takeStep({ p, episode: live[i], response: rollout.responses[i] });
        });
      }
    };
    // The episodes start together, so one timer is each one's time limit: when it fires, the step in flight is
    // cancelled and every episode ends, as an episode's does; that step's actions are left out (unrewarded). Runs
    // started before the limit existed replay without its timer.
    const limited = patched('ppo-episodes-time-limit');
    await (limited ? CancellationScope.withTimeout(input.maxMinutes * 60_000, steps) : steps()).catch((err: unknown) => {
      if (!isCancellation(err) || CancellationScope.current().consideredCancelled) throw err;
      log.info(`ppo: iteration ${it + 1}: the episodes reached their time limit (${input.maxMinutes} min)`);
    });
  } finally {
    // also the containers still being created when a time limit ended the steps
    await Promise.all(episodes.map((e) => e.ws && closeOnceOpen(e.ws)));
  }
  return { rollouts: parts.length === 1 ? parts[0] : await sampling(input).ppoJoinRollouts({ parts }), outcomes, generateMs };
}

/** The policy's prompt at the episode's current step: its start state's, followed by what it did since. */
function statePrompt(e: Episode): PromptState {
  const s = e.start.promptState;
  return promptState({ researchProblem: s.researchProblem, seedIdeas: s.seedIdeas, history: [...s.history, ...e.history], earlierSteps: s.earlierSteps });
}

/** One action of an episode, executed in its container and rewarded; the episode's state moves on. */
async function takeStep(a: { p: RolloutParams; episode: Episode; response: string }): Promise<ActionOutcome | undefined> {
  const { input } = a.p;
  const e = a.episode;
  const parsed = parseResponse(a.response);
  if (!parsed.ok) {
    e.history.push({ response: a.response, observation: `Invalid action: ${parsed.error}` });
    return { kind: 'invalid', reward: 0 };
  }
  const timeouts = { actionTimeoutSec: (input.scriptTimeoutSec ?? e.task.scriptTimeoutSec) + 120, hostLostAfterSec: input.hostLostAfterSec };
  try {
    e.ws ??= openUncancellable({ args: { task: e.task.name, episodeId: e.id, snapshot: e.snapshot }, timeouts, summary: 'restore initial state' });
    const result = await runActionRecovering({
      ws: await e.ws,
      timeouts,
      summary: parsed.action.name,
      args: { episodeId: e.id, task: e.task.name, action: parsed.action, state: e.snapshot, observationChars: input.observationChars, scriptTimeoutSec: input.scriptTimeoutSec },
    });
    const scored = await scoreAction({
      task: e.task, rewardScale: a.p.rewardScales[e.task.name], metricBefore: e.metric, actionName: parsed.action.name, result, scriptTimeoutSec: input.scriptTimeoutSec,
    });
    e.history.push({ response: a.response, observation: result.observation });
    e.snapshot = result.snapshotAfter;
    e.metric = nextMetric({ actionName: parsed.action.name, kind: scored.kind, metricAfter: scored.metricAfter }, e.metric);
    e.done = parsed.action.name === 'Final Answer';
    return { kind: scored.kind, reward: scored.reward };
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn(`ppo: episode ${e.id} ended at ${parsed.action.name} on ${e.task.name}, which no sandbox could run: ${failureMessage(err)}`);
    e.done = true;
    return undefined;
  }
}
