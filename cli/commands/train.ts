import path from 'node:path';
import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifact-store';
import { PipelineInput } from '../../core/pipeline-schema';
import { describeIssues } from '../../core/zod-issues';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { collectProgressQuery } from '../../workflows/collect';
import type { PipelineResult } from '../../workflows/pipeline';
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
  const { input } = p;
  const { client, close } = await connectClient();
  try {
    const workflowId = `pipeline-${p.name}-${Date.now()}`;
    const handle = await client.workflow.start('trainPipeline', { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [input] });
    const ui = workflowUiUrl({ namespace: client.options.namespace, workflowId });
    console.log(`pipeline ${workflowId} started\n  Temporal UI: ${ui}`);
    const bar = progressBar('episodes');
    const collect = client.workflow.getHandle(`${workflowId}/collect`);
    const result = await followWorkflow<PipelineResult>({
      handle,
      ui,
      poll: async () => {
        const pr = await collect.query(collectProgressQuery);
        bar.update(pr.done, pr.total, pr.stage === 'done' ? 'collected; SFT and evaluation…' : pr.stage);
      },
    });
    bar.end();
    return result && { result, workflowId };
  } finally {
    await close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(Flags, argv);
  const out = await runTrain(pipelineInputFromFlags(flags));
  if (!out) return 1;
  const { collect, sft } = out.result;
  const store = new ArtifactStore();
  console.log(`\nepisodes: ${collect.episodes.filter((e) => e.ok).length}/${collect.episodes.length} ok; states pool ${collect.counts.states}; SFT pairs ${collect.counts.sftPairs}`);
  console.log(`SFT: ${sft.steps} steps, final loss ${sft.finalLoss.toFixed(4)}${sft.heldOutLoss ? `; held-out loss ${sft.heldOutLoss.before.toFixed(4)} → ${sft.heldOutLoss.after.toFixed(4)}` : ''}`);
  console.log(`checkpoint: ${store.pathOf(sft.checkpoint)} (sha256 ${sft.checkpoint.sha256})`);
  const tuned = out.result.ppo;
  if (tuned) console.log(`PPO: ${tuned.iterations} iterations; policy ${store.pathOf(tuned.policy)} (sha256 ${tuned.policy.sha256})`);
  for (const [name, a] of Object.entries(out.result.evaluate?.agents ?? {})) console.log(`held-out ${name}: mean relative gain ${(a.meanRelativeGain * 100).toFixed(2)}%`);
  console.log(`report: ${await writeReport({ workflowId: out.workflowId, result: out.result })}`);
  return 0;
}
