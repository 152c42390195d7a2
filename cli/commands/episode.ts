import { z } from 'zod';
import { loadTask } from '../../activities/tasks/registry';
import { ArtifactStore } from '../../activities/artifact-store';
import { EpisodeInput, type EpisodeSummary } from '../../core/episode-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { episodeProgressQuery, type EpisodeProgress } from '../../workflows/episode';
import { connectClient, workflowUiUrl } from '../client';
import { failureMessage } from '../../core/failure-message';
import { parseFlags } from '../flags';

export const describe = 'run one agent episode through Temporal: episode --task NAME [--agent scripted] [--max-steps N] [--json]';

const Flags = z.object({
  task: z.string({ error: 'is required (see `mlagent tasks list`)' }).min(1),
  agent: z.enum(['scripted']).default('scripted'),
  'max-steps': z.coerce.number().int().min(1).max(100).optional(),
  'max-minutes': z.coerce.number().positive().optional(),
  json: z.boolean().default(false),
});

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(Flags, argv);
  loadTask(flags.task); // unknown task: a clear error before anything starts
  const input = EpisodeInput.parse({
    task: flags.task,
    agent: { kind: flags.agent },
    limits: { ...(flags['max-steps'] && { maxSteps: flags['max-steps'] }), ...(flags['max-minutes'] && { maxMinutes: flags['max-minutes'] }) },
  });
  const { client, close } = await connectClient();
  try {
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
    const result = handle.result();
    let done = false;
    result.finally(() => (done = true)).catch(() => undefined);
    while (!done) {
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      const p = await handle.query(episodeProgressQuery).catch(() => undefined);
      if (p) printRows(p);
    }
    let summary: EpisodeSummary;
    try {
      summary = await result;
    } catch (err) {
      console.error(`episode failed: ${failureMessage(err)}\n  see ${ui}`);
      return 1;
    }
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
