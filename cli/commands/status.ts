import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { phaseSeconds } from '../../core/ppo-schema';
import { collectProgressQuery } from '../../workflows/collect';
import { episodeProgressQuery } from '../../workflows/episode';
import { ppoProgressQuery } from '../../workflows/ppo';
import { workflowUiUrl } from '../client';
import { runCommand } from '../run-command';
import { fetchRun, resultSummary } from '../run-result';

export const describe = 'where a run stands: status RUN [--json] (a trainPipeline, ppo, sft, collectTrajectories, evaluate or runEpisode workflow id)';

const Flags = z.object({ json: z.boolean().default(false) });

/** A running workflow's progress line, from its own progress query. */
async function progressLine(client: Client, workflowId: string, type: string): Promise<string | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  switch (type) {
    case 'runEpisode': {
      const p = await handle.query(episodeProgressQuery);
      const last = p.steps.at(-1);
      return `${p.task}: step ${p.step}/${p.maxSteps}${last ? `; last ${last.action} (${last.kind}, reward ${last.reward?.toFixed(3) ?? '-'}, metric ${last.metric ?? '-'})` : ''}`;
    }
    case 'collectTrajectories': {
      const p = await handle.query(collectProgressQuery);
      return `collect: ${p.stage}, ${p.done}/${p.total} episodes done${p.failed ? `, ${p.failed} failed` : ''}`;
    }
    case 'ppo': {
      const p = await handle.query(ppoProgressQuery);
      const last = p.metrics.at(-1);
      return `ppo: iteration ${p.iteration}/${p.iterations}${last ? `; mean reward ${last.meanReward.toFixed(3)}, KL to ref ${last.refKl.toFixed(4)}, s generate / execute / update ${phaseSeconds(last)}` : ''}${p.stopRequested ? ' (stopping)' : ''}`;
    }
    case 'trainPipeline': {
      // The pipeline's own progress query (stage statuses) where its workers have one, then the stage in flight's.
      const own = await handle.query<{ stage?: string; paused?: boolean; stages?: Record<string, { status: string }> }>('progress').catch(() => undefined);
      const lines = own?.stages ? [`pipeline at ${own.stage}${own.paused ? ' (paused)' : ''}: ${Object.entries(own.stages).map(([stage, p]) => `${stage} ${p.status}`).join(', ')}`] : [];
      for (const [stage, childType] of [['ppo', 'ppo'], ['collect', 'collectTrajectories']] as const) {
        const line = await progressLine(client, `${workflowId}/${stage}`, childType).catch(() => undefined);
        if (line) lines.push(line);
      }
      return lines.length ? lines.join('; ') : undefined;
    }
    default:
      return undefined;
  }
}

export async function run(argv: string[]): Promise<number> {
  return runCommand({
    argv,
    flags: Flags,
    usage: 'mlagent status RUN [--json]',
    act: async ({ client, workflowId, flags }) => {
      const info = await fetchRun(client, workflowId);
      const running = info.status === 'RUNNING';
      const progress = running ? await progressLine(client, workflowId, info.type).catch(() => undefined) : undefined;
      const details = running ? await client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata').then((m) => m.currentDetails || undefined, () => undefined) : undefined;
      const summary = info.result === undefined ? undefined : resultSummary(info.type, info.result);
      const ui = workflowUiUrl({ namespace: client.options.namespace, workflowId });
      if (flags.json) {
        console.log(JSON.stringify({ workflowId, type: info.type, status: info.status, stage: info.stage, startTime: info.startTime, closeTime: info.closeTime, ui, progress, details, summary, error: info.error }, null, 2));
        return 0;
      }
      const seconds = ((info.closeTime ?? new Date()).getTime() - info.startTime.getTime()) / 1000;
      console.log(`${workflowId}: ${info.type} ${info.status}${info.stage ? ` (stage ${info.stage})` : ''}, ${running ? 'running for' : 'took'} ${seconds.toFixed(0)} s`);
      console.log(`  Temporal UI: ${ui}`);
      if (progress) console.log(`  progress: ${progress}`);
      if (details) console.log(details.split('\n').map((l) => `  | ${l}`).join('\n'));
      for (const line of summary ?? []) console.log(`  ${line}`);
      if (info.error) console.log(`  error: ${info.error}`);
      return 0;
    },
  });
}
