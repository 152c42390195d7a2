import { z } from 'zod';
import { loadTask } from '../../activities/tasks/registry';
import { ArtifactStore } from '../../activities/artifact-store';
import type { Client } from '@temporalio/client';
import { EpisodeInput, type EpisodeSummary, type SeedIdea } from '../../core/episode-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { episodeProgressQuery, type EpisodeProgress } from '../../workflows/episode';
import { connectClient, workflowUiUrl } from '../client';
import { parseFlags } from '../flags';
import { followWorkflow } from '../follow';

export const describe = 'run one agent episode through Temporal: episode --task NAME [--agent scripted] [--ideas 0-3] [--max-steps N] [--json]';

const Flags = z.object({
  task: z.string({ error: 'is required (see `mlagent tasks list`)' }).min(1),
  agent: z.enum(['scripted']).default('scripted'),
  'max-steps': z.coerce.number().int().min(1).max(100).optional(),
  'max-minutes': z.coerce.number().positive().optional(),
  /** Diverse ideas (from the generateIdeas workflow) injected into the agent's first prompt. */
  ideas: z.coerce.number().int().min(0).max(3).default(1),
  seed: z.coerce.number().int().nonnegative().default(0),
  json: z.boolean().default(false),
});

async function chooseIdeas(p: { client: Client; task: string; k: number; seed: number }): Promise<SeedIdea[]> {
  const res = await p.client.workflow.execute('generateIdeas', {
    taskQueue: ORCHESTRATOR_QUEUE,
    workflowId: `ideas-${p.task}-${Date.now()}`,
    args: [{ task: p.task, k: p.k, seed: p.seed + 1 }],
  });
  return (res as { chosen: SeedIdea[] }).chosen.map(({ id, text, edits }) => ({ id, text, edits }));
}

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(Flags, argv);
  loadTask(flags.task); // unknown task: a clear error before anything starts
  const { client, close } = await connectClient();
  try {
    const seedIdeas = flags.ideas ? await chooseIdeas({ client, task: flags.task, k: flags.ideas, seed: flags.seed }) : [];
    const input = EpisodeInput.parse({
      task: flags.task,
      agent: { kind: flags.agent },
      seedIdeas,
      seed: flags.seed,
      limits: { ...(flags['max-steps'] && { maxSteps: flags['max-steps'] }), ...(flags['max-minutes'] && { maxMinutes: flags['max-minutes'] }) },
    });
    const workflowId = `episode-${flags.task}-${Date.now()}`;
    const handle = await client.workflow.start('runEpisode', { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [input] });
    const ui = workflowUiUrl({ namespace: client.options.namespace, workflowId });
    if (!flags.json) console.log(`episode ${workflowId} started\n  Temporal UI: ${ui}\n`);
    const printed = new Set<number>();
    const printRows = (p: EpisodeProgress) => {
      for (const s of p.steps) {
        if (printed.has(s.step) || flags.json) continue;
        printed.add(s.step);
        if (printed.size === 1) console.log(`${'step'.padEnd(5)} ${'action'.padEnd(22)} ${'outcome'.padEnd(12)} ${'reward'.padEnd(7)} ${'metric'.padEnd(10)} seconds`);
        console.log(`${String(s.step + 1).padEnd(5)} ${s.action.padEnd(22)} ${s.kind.padEnd(12)} ${(s.reward?.toFixed(3) ?? '-').padEnd(7)} ${String(s.metric === null ? '-' : +s.metric.toFixed(5)).padEnd(10)} ${s.seconds.toFixed(1)}`);
      }
    };
    const summary = await followWorkflow<EpisodeSummary>({ handle, ui, everyMs: 1000, poll: async () => printRows(await handle.query(episodeProgressQuery)) });
    if (!summary) return 1;
    printRows(await handle.query(episodeProgressQuery));
    if (flags.json) {
      console.log(JSON.stringify({ ...summary, ui }, null, 2));
    } else {
      console.log(`\nended: ${summary.endReason} after ${summary.steps} steps; metric ${summary.initialMetric} → ${summary.finalMetric} (best ${summary.bestMetric})`);
      console.log(`trajectory: ${summary.trajectory.sha256} (${summary.trajectory.size} bytes)\n  file: ${new ArtifactStore().pathOf(summary.trajectory)}`);
      console.log(`Temporal UI: ${ui}`);
    }
    return 0;
  } finally {
    await close();
  }
}
