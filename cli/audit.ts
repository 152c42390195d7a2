import type { Client } from '@temporalio/client';
import type { RunActionResult, EvaluateResult } from '../activities/sandbox-activities';
import type { PpoStartState } from '../activities/ppo-activities';
import { ArtifactStore } from '../activities/artifact-store';
import type { EpisodeSummary, StepRecord } from '../core/episode-schema';
import { parseResponse } from '../core/parse-response';
import type { PpoConfig } from '../core/ppo-schema';
import { kindAfterEvaluation } from '../core/step-kind';
import { truncateObservation } from '../core/truncate';
import type { EpisodeProgress } from '../workflows/episode';
import { runTree, type ActivityCall, type RunNode } from './run-history';

/** One agent action of a run, wherever it happened (an episode step, or one sampled PPO action). */
export interface AuditRow {
  stage: 'episode' | 'collect' | 'evaluate' | 'ppo';
  /** PPO only: how the action was rolled out, one action from a pool state or a step of a whole episode (the baseline). */
  mode?: PpoConfig['mode'];
  /** PPO only: the iteration whose update the action was trained in. */
  iteration?: number;
  /** The workflow that took the action (an episode, or the PPO run). */
  workflowId: string;
  task: string;
  /** Which agent acted: the scripted expert, an evaluated agent's name, the policy in PPO. */
  agent: string;
  /** The episode; for PPO `<ppo run>/<iteration>/<action index>` (step-wise) or `<ppo run>/<iteration>/<episode index>` (episodic). */
  episode: string;
  /** Step within the episode; for step-wise PPO (one action per pool state), the iteration. */
  step: number;
  /** The action's name, or `invalid` when the response parsed to none. */
  action: string;
  actionInput: unknown;
  observation: string;
  kind: string | null;
  reward: number | null;
  metric: number | null;
}

const STAGE_OF_PARENT: Record<string, AuditRow['stage']> = { collectTrajectories: 'collect', evaluate: 'evaluate' };

/** Every agent action of `workflowId` and the workflows under it, in history order. */
export async function auditRun(p: { client: Client; workflowId: string; excerptChars: number }): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  const visit = async (node: RunNode, parent?: RunNode) => {
    if (node.type === 'runEpisode') rows.push(...(await episodeRows({ client: p.client, node, parent })));
    else if (node.type === 'ppo') rows.push(...ppoRows(node));
    for (const child of node.children) await visit(child, node);
  };
  await visit(await runTree(p.client, p.workflowId));
  return rows.map((r) => ({ ...r, observation: truncateObservation(r.observation, p.excerptChars) }));
}

async function episodeRows(p: { client: Client; node: RunNode; parent?: RunNode }): Promise<AuditRow[]> {
  const { node, parent } = p;
  const input = node.input as { task: string; agent?: { kind: string } };
  const stage = (parent && STAGE_OF_PARENT[parent.type]) ?? 'episode';
  // Evaluation children are `<evaluate>/<agent name>/<task>/<k>`: the name tells SFT-only from SFT + PPO.
  const agent = stage === 'evaluate' ? node.workflowId.slice(parent!.workflowId.length + 1).split('/')[0]! : (input.agent?.kind ?? 'scripted');
  const base = { stage, workflowId: node.workflowId, task: input.task, agent, episode: node.workflowId };
  if (node.status === 'COMPLETED') {
    const summary = node.result as EpisodeSummary;
    const text = (await new ArtifactStore().get(summary.trajectory)).toString('utf8');
    return text.split('\n').filter(Boolean).map((line) => {
      const s = JSON.parse(line) as StepRecord;
      return { ...base, step: s.step, action: s.action?.name ?? 'invalid', actionInput: s.action?.input ?? null, observation: s.observation, kind: s.kind, reward: s.reward, metric: s.metricAfter };
    });
  }
  // Not finished (or failed): the steps so far from the history; rewards from the live episode when it answers.
  const live = node.status === 'RUNNING' ? await p.client.workflow.getHandle(node.workflowId).query<EpisodeProgress>('progress').catch(() => undefined) : undefined;
  const rows: AuditRow[] = [];
  for (const call of node.activities) {
    if (call.name === 'decideAction' || call.name === 'policyAct') {
      const response = (call.result as { response: string } | undefined)?.response;
      if (response === undefined) continue;
      const parsed = parseResponse(response);
      const step = rows.length;
      const scored = live?.steps.find((s) => s.step === step);
      rows.push({
        ...base, step, action: parsed.ok ? parsed.action.name : 'invalid', actionInput: parsed.ok ? parsed.action.input : null,
        observation: parsed.ok ? '' : `Invalid action: ${parsed.error}`, kind: scored?.kind ?? (parsed.ok ? null : 'invalid'), reward: scored?.reward ?? null, metric: scored?.metric ?? null,
      });
    } else if (call.name === 'runAction' && call.result && rows.length) {
      const result = call.result as RunActionResult;
      rows[rows.length - 1] = { ...rows[rows.length - 1]!, observation: result.observation, kind: rows[rows.length - 1]!.kind ?? result.kind };
    }
  }
  return rows;
}

/**
 * PPO actions from the run's history (every run of its continue-as-new chain): per iteration the sampled states,
 * the policy's responses, each executed action's observation (matched by its episode id and the rollout it was
 * sampled in), the workspace's score after an edit, and the reward each action was trained with (the update's
 * input, rows in rollout order). Step-wise, each response is one action from a pool state (episode
 * `<run>/<it>/<i>`); episodic, each rollout is one step of the iteration's episodes still going (episode
 * `<run>/<it>/<e>`), which are told from the history as the workflow tells them: an episode ends at an executed
 * Final Answer or at an action no sandbox ran.
 */
export function ppoRows(node: RunNode): AuditRow[] {
  const input = node.input as { mode?: PpoConfig['mode']; resume?: { iteration: number } };
  const mode = input.mode ?? 'stepwise';
  const rows: AuditRow[] = [];
  // A chain started by hand from a resume point counts on from there.
  let iteration = (input.resume?.iteration ?? 0) - 1;
  let states: PpoStartState[] = [];
  /** This iteration's actions in rollout order, each with the rollout (episodic: the step) it was sampled in. */
  let pending: { row: AuditRow; rollout: number }[] = [];
  let rollout = -1;
  const executed = new Map<string, RunActionResult>();
  const key = (episode: string, n: number) => `${episode}@${n}`;
  const bySnapshot = new Map<string, ActivityCall>();
  const flush = () => {
    rows.push(...pending.map((p) => p.row));
    pending = [];
  };
  /** Episodic: indexes (into `states`) of the episodes that act in the next rollout. */
  const goingOn = (): number[] => {
    if (rollout === 0) return states.map((_, e) => e);
    return pending
      .filter((p) => p.rollout === rollout - 1)
      .filter((p) => p.row.action === 'invalid' || (executed.has(key(p.row.episode, p.rollout)) && p.row.action !== 'Final Answer'))
      .map((p) => Number(p.row.episode.slice(p.row.episode.lastIndexOf('/') + 1)));
  };
  for (const call of node.activities) {
    if (call.name === 'ppoSampleStates') {
      flush();
      iteration++;
      rollout = -1;
      states = (call.result as PpoStartState[] | undefined) ?? [];
    } else if (call.name === 'ppoRollout') {
      rollout++;
      const perState = (call.input as { actionsPerState: number }).actionsPerState;
      const actors = mode === 'episodic' ? goingOn() : undefined;
      const responses = (call.result as { responses: string[] } | undefined)?.responses ?? [];
      pending.push(
        ...responses.map((response, i) => {
          const parsed = parseResponse(response);
          const state = actors ? actors[i] : Math.floor(i / perState);
          const row: AuditRow = {
            stage: 'ppo', mode, iteration, workflowId: node.workflowId, task: (state !== undefined && states[state]?.task) || '?', agent: 'policy',
            episode: `${node.workflowId}/${iteration}/${actors ? state : i}`, step: actors ? rollout : iteration,
            action: parsed.ok ? parsed.action.name : 'invalid', actionInput: parsed.ok ? parsed.action.input : null,
            observation: parsed.ok ? '' : `Invalid action: ${parsed.error}`, kind: parsed.ok ? null : 'invalid', reward: null, metric: null,
          };
          return { row, rollout };
        }),
      );
    } else if (call.name === 'runAction' && call.result) {
      executed.set(key((call.input as { episodeId: string }).episodeId, rollout), call.result as RunActionResult);
    } else if (call.name === 'evaluateWorkspace') {
      bySnapshot.set((call.input as { snapshot: { sha256: string } }).snapshot.sha256, call);
    } else if (call.name === 'ppoUpdate') {
      const rewards = (call.input as { rewards: (number | null)[] }).rewards;
      pending.forEach((p, i) => (p.row.reward = rewards[i] ?? null));
    }
    for (const { row: r, rollout: n } of pending) {
      const done = executed.get(key(r.episode, n));
      if (!done) continue;
      const evaluation = bySnapshot.get(done.snapshotAfter.sha256)?.result as EvaluateResult | undefined;
      r.observation = done.observation;
      r.kind = evaluation ? kindAfterEvaluation(done.kind, evaluation) : done.kind;
      r.metric = evaluation ? evaluation.metric : done.metricAfter;
    }
  }
  flush();
  return rows;
}
