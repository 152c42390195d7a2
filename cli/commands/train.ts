import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifact-store';
import { listTasks } from '../../activities/tasks/registry';
import { COLLECT_PRESETS } from '../../core/collect-schema';
import { PipelineInput } from '../../core/pipeline-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { collectProgressQuery } from '../../workflows/collect';
import type { PipelineResult } from '../../workflows/pipeline';
import { connectClient, workflowUiUrl } from '../client';
import { parseFlags } from '../flags';
import { followWorkflow } from '../follow';
import { progressBar } from '../progress-bar';
import { writeReport } from '../report';

export const describe = 'the training pipeline (ideas → expert trajectories → SFT → step-wise PPO → held-out evaluation): train [--preset demo|paper] [--tasks a,b] [--ppo-iterations N] [--no-evaluate]';

const Flags = z.object({
  preset: z.enum(['demo', 'paper']).default('demo'),
  tasks: z.string().optional(),
  'no-evaluate': z.boolean().default(false),
  /** Step-wise PPO iterations after SFT; 0 skips the stage. */
  'ppo-iterations': z.coerce.number().int().min(0).default(0),
});

/** PPO per preset (iterations come from the flag): a few states and short actions per iteration on 2 cores. */
const PPO_PRESETS = {
  demo: { statesPerIteration: 2, actionsPerState: 1, minibatchSize: 1, maxNewTokens: 128 },
  paper: { statesPerIteration: 16, actionsPerState: 2, minibatchSize: 4, lrActor: 1e-6, lrCritic: 1e-5 },
};

/** Held-out evaluation per preset: the demo's is a quick look (2 tasks, K=1); the paper's is every held-out task, K=3. */
const EVALUATE_PRESETS = {
  demo: () => ({ tasks: ['satellite', 'nmes1988'], k: 1, limits: { maxSteps: 6 } }),
  paper: () => ({ tasks: listTasks().filter((t) => t.split === 'heldout').map((t) => t.name), k: 3 }),
};

/**
 * SFT settings per preset, fine-tuning the imported SmolLM2-135M (the default base): rows of 2048 tokens (a whole
 * prompt, its history fitted, plus the action), one row per forward/backward so activations stay within a CPU
 * worker's memory, and a fine-tuning learning rate (the schema's 3e-4 suits a fresh tiny model). The demo runs
 * one epoch; the paper's recipe two.
 */
const SFT_PRESETS = {
  demo: { epochs: 1, batchSize: 4, microBatchSize: 1, seqLen: 2048, lr: 3e-5, warmupSteps: 2, heldOutFraction: 0.1, checkpointEvery: 5 },
  paper: { epochs: 2, batchSize: 8, microBatchSize: 1, seqLen: 2048, lr: 3e-5, heldOutFraction: 0.05 },
};

export async function runTrain(p: { preset: 'demo' | 'paper'; tasks?: string[]; evaluate?: boolean; ppoIterations?: number }): Promise<{ result: PipelineResult; workflowId: string } | undefined> {
  const tasks = p.tasks ?? listTasks().filter((t) => t.split === 'train').map((t) => t.name);
  const input = PipelineInput.parse({
    collect: { tasks, ...COLLECT_PRESETS[p.preset] },
    sft: SFT_PRESETS[p.preset],
    ...(p.ppoIterations && { ppo: { ...PPO_PRESETS[p.preset], iterations: p.ppoIterations } }),
    ...(p.evaluate !== false && { evaluate: EVALUATE_PRESETS[p.preset]() }),
  }) as PipelineInput;
  const { client, close } = await connectClient();
  try {
    const workflowId = `pipeline-${p.preset}-${Date.now()}`;
    const handle = await client.workflow.start('trainPipeline', { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [input] });
    const ui = workflowUiUrl({ namespace: client.options.namespace, workflowId });
    console.log(`pipeline ${workflowId} started (${tasks.length} tasks)\n  Temporal UI: ${ui}`);
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
  const out = await runTrain({ preset: flags.preset, tasks: flags.tasks?.split(',').map((t) => t.trim()), evaluate: !flags['no-evaluate'], ppoIterations: flags['ppo-iterations'] });
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
