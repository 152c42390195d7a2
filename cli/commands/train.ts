import path from 'node:path';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifact-store';
import { evaluationText } from '../../core/evaluation-table';
import { PipelineInput } from '../../core/pipeline-schema';
import { describeIssues } from '../../core/zod-issues';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { collectProgressQuery } from '../../workflows/collect';
import { PIPELINE_STAGES, pipelineProgressQuery, type PipelineProgress, type PipelineResult } from '../../workflows/pipeline';
import { ppoProgressQuery } from '../../workflows/ppo';
import { connectClient, workflowUiUrl } from '../client';
import { parseFlags } from '../flags';
import { loadPipelineConfig, presetFile, PRESETS } from '../pipeline-config';
import { followWorkflow } from '../follow';
import { progressBar } from '../progress-bar';
import { writeReport } from '../report';

export const describe = 'the training pipeline (ideas → expert trajectories → SFT → step-wise PPO → held-out evaluation): train [--config FILE.json|yaml | --preset smoke|demo|paper] [--tasks a,b] [--ppo-iterations N] [--no-evaluate]';

const Flags = z.object({
  /** Any `trainPipeline` input as a JSON or YAML file. */
  config: z.string().optional(),
  /** A named config: temporal-config/examples/NAME.json. */
  preset: z.enum(PRESETS).optional(),
  tasks: z.string().optional(),
  'no-evaluate': z.boolean().default(false),
  /** Overrides the config's PPO iterations; 0 skips the stage. */
  'ppo-iterations': z.coerce.number().int().min(0).optional(),
});
type Flags = z.output<typeof Flags>;

/** The config file (or preset) with the flags' overrides applied, validated again as a whole. */
export function pipelineInputFromFlags(flags: Flags): { input: PipelineInput; name: string } {
  if (flags.config && flags.preset) throw new Error('--config and --preset: give one');
  const name = flags.config ? path.basename(flags.config).replace(/\.(json|ya?ml)$/, '') : (flags.preset ?? 'demo');
  const base = loadPipelineConfig(flags.config ?? presetFile(flags.preset ?? 'demo'));
  const iterations = flags['ppo-iterations'];
  const input: PipelineInput = {
    ...base,
    ...(flags.tasks && base.collect && { collect: { ...base.collect, tasks: flags.tasks.split(',').map((t) => t.trim()) } }),
    ...(iterations !== undefined && { ppo: iterations ? { ...base.ppo, iterations } : undefined }),
    ...(flags['no-evaluate'] && { evaluate: undefined }),
  };
  const parsed = PipelineInput.safeParse(input);
  if (!parsed.success) throw new Error(`${name} with the flags' overrides: ${describeIssues(parsed.error)}`);
  return { input, name };
}

export async function runTrain(p: { input: PipelineInput; name: string }): Promise<{ result: PipelineResult; workflowId: string } | undefined> {
  const { client, close } = await connectClient();
  try {
    const workflowId = `pipeline-${p.name}-${Date.now()}`;
    const handle = await client.workflow.start('trainPipeline', { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [p.input] });
    const ui = workflowUiUrl({ namespace: client.options.namespace, workflowId });
    console.log(`pipeline ${workflowId} started\n  Temporal UI: ${ui}\n  Ctrl-C detaches (the run goes on); signal pause, resume or stop from the UI`);
    // Ctrl-C leaves the run to the server: nothing here cancels it.
    const detach = () => {
      console.log(`\ndetached; ${workflowId} goes on: ${ui}`);
      process.exit(130);
    };
    process.once('SIGINT', detach);
    const bar = progressBar('pipeline');
    const result = await followWorkflow<PipelineResult>({
      handle,
      ui,
      poll: async () => {
        const pr = await handle.query(pipelineProgressQuery);
        const stages = PIPELINE_STAGES.filter((s) => pr.stages[s].status !== 'skipped');
        const finished = stages.filter((s) => ['done', 'reused'].includes(pr.stages[s].status)).length;
        bar.update(finished, stages.length, `${pr.stage}${await stageDetail({ client, progress: pr })}${pr.paused ? ' (paused)' : ''}${pr.stopRequested ? ' (stopping)' : ''}`);
      },
    });
    bar.end();
    process.off('SIGINT', detach);
    return result && { result, workflowId };
  } finally {
    await close();
  }
}

/** The running stage's own counters, from its child workflow's `progress` query. */
async function stageDetail(p: { client: Client; progress: PipelineProgress }): Promise<string> {
  const { stage } = p.progress;
  if (stage === 'done' || p.progress.stages[stage].status !== 'running') return '';
  const h = p.client.workflow.getHandle(p.progress.stages[stage].workflowId!);
  if (stage === 'collect') {
    const c = await h.query(collectProgressQuery);
    return `: ${c.stage} ${c.done}/${c.total} episodes${c.failed ? `, ${c.failed} failed` : ''}`;
  }
  if (stage === 'ppo') {
    const r = await h.query(ppoProgressQuery);
    const last = r.metrics.at(-1);
    return `: iteration ${r.iteration}/${r.iterations}${last ? `, mean reward ${last.meanReward.toFixed(3)}` : ''}`;
  }
  return '…';
}

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(Flags, argv);
  const out = await runTrain(pipelineInputFromFlags(flags));
  if (!out) return 1;
  const { collect, sft, refs } = out.result;
  const store = new ArtifactStore();
  if (out.result.stopped) console.log('\nstopped by signal after the stage in progress');
  if (collect) console.log(`\nepisodes: ${collect.episodes.filter((e) => e.ok).length}/${collect.episodes.length} ok; states pool ${collect.counts.states}; SFT pairs ${collect.counts.sftPairs}`);
  if (sft) console.log(`SFT: ${sft.steps} steps, final loss ${sft.finalLoss.toFixed(4)}${sft.heldOutLoss ? `; held-out loss ${sft.heldOutLoss.before.toFixed(4)} → ${sft.heldOutLoss.after.toFixed(4)}` : ''}`);
  if (refs.sftCheckpoint) console.log(`checkpoint: ${store.pathOf(refs.sftCheckpoint)} (sha256 ${refs.sftCheckpoint.sha256})`);
  console.log(`refs (a later run's \`from\`): ${JSON.stringify({ collect: refs.collect, sftCheckpoint: refs.sftCheckpoint })}`);
  const tuned = out.result.ppo;
  if (tuned) console.log(`PPO: ${tuned.iterations} iterations; policy ${store.pathOf(tuned.policy)} (sha256 ${tuned.policy.sha256})`);
  if (out.result.evaluate) console.log(`held-out evaluation:\n${evaluationText(out.result.evaluate)}`);
  console.log(`report: ${await writeReport({ workflowId: out.workflowId, result: out.result })}`);
  return 0;
}
