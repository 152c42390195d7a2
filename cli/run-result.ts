import type { Client } from '@temporalio/client';
import type { EpisodeSummary } from '../core/episode-schema';
import { failureMessage } from '../core/failure-message';
import { MLAGENT_STAGE } from '../core/search-attributes';
import type { SftResult } from '../model/sft-params';
import type { CollectResult } from '../workflows/collect';
import type { EvaluateResult } from '../workflows/evaluate';
import type { PipelineResult } from '../workflows/pipeline';
import type { PpoResult } from '../workflows/ppo';
import type { ReportedRun } from './report';

/** A run as the server describes it, with its result (or why it failed) once closed. */
export interface RunInfo {
  workflowId: string;
  type: string;
  status: string;
  stage?: string;
  startTime: Date;
  closeTime?: Date;
  result?: unknown;
  error?: string;
}

export async function fetchRun(client: Client, workflowId: string): Promise<RunInfo> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  const info: RunInfo = { workflowId, type: d.type, status: d.status.name, stage: d.typedSearchAttributes.get(MLAGENT_STAGE), startTime: d.startTime, closeTime: d.closeTime };
  if (d.status.name === 'COMPLETED') info.result = await handle.result();
  else if (d.status.name !== 'RUNNING') info.error = await handle.result().then(() => undefined, failureMessage);
  return info;
}

/** Which stage result a standalone run's result is (a pipeline's result holds them all). */
const STAGE_OF_TYPE: Record<string, keyof ReportedRun> = { collectTrajectories: 'collect', sft: 'sft', ppo: 'ppo', evaluate: 'evaluate' };

/**
 * The stage results of a run: a finished pipeline's result, or those of its finished stages while it runs (or after
 * it failed), or a standalone stage's own.
 */
export async function reportedRun(client: Client, run: RunInfo): Promise<ReportedRun> {
  if (run.type === 'trainPipeline') {
    if (run.result) return run.result as PipelineResult;
    const out: ReportedRun = {};
    for (const stage of Object.values(STAGE_OF_TYPE)) {
      const child = await fetchRun(client, `${run.workflowId}/${stage}`).catch(() => undefined);
      if (child?.result) Object.assign(out, { [stage]: child.result });
    }
    return out;
  }
  const stage = STAGE_OF_TYPE[run.type];
  return stage && run.result ? { [stage]: run.result } : {};
}

/** A finished run's outcome in a few lines. */
export function resultSummary(type: string, result: unknown): string[] {
  switch (type) {
    case 'runEpisode': {
      const s = result as EpisodeSummary;
      return [`${s.task}: ${s.endReason} after ${s.steps} steps; metric ${s.initialMetric} → ${s.finalMetric} (best ${s.bestMetric})`, `trajectory ${s.trajectory.sha256}`];
    }
    case 'collectTrajectories': {
      const c = result as CollectResult;
      return [`${c.episodes.filter((e) => e.ok).length}/${c.episodes.length} episodes ok; ${c.counts.states} states; ${c.counts.sftPairs} SFT pairs`];
    }
    case 'sft': {
      const s = result as SftResult;
      return [`SFT: ${s.steps} steps, final loss ${s.finalLoss.toFixed(4)}${s.heldOutLoss ? `, held-out loss ${s.heldOutLoss.before.toFixed(4)} → ${s.heldOutLoss.after.toFixed(4)}` : ''}; checkpoint ${s.checkpoint.sha256}`];
    }
    case 'ppo': {
      const p = result as PpoResult;
      return [`PPO: ${p.iterations} iterations${p.stopped ? ' (stopped)' : ''}; policy ${p.policy.sha256}`];
    }
    case 'evaluate': {
      const e = result as EvaluateResult;
      return Object.entries(e.agents).map(([name, a]) => `${name}: mean Δ_r ${typeof a.meanRelativeGain === 'number' ? `${(a.meanRelativeGain * 100).toFixed(2)}%` : '-'} over ${a.tasks} task(s)`);
    }
    case 'trainPipeline': {
      const p = result as PipelineResult;
      const stages: [string, unknown][] = [['collectTrajectories', p.collect], ['sft', p.sft], ['ppo', p.ppo], ['evaluate', p.evaluate]];
      return stages.flatMap(([stageType, r]) => (r ? resultSummary(stageType, r) : []));
    }
    default:
      return [JSON.stringify(result).slice(0, 300)];
  }
}
