import fs from 'node:fs';
import { z } from 'zod';
import { listTasks } from '../../activities/tasks/registry';
import { ArtifactStore } from '../../activities/artifact-store';
import { CollectInput } from '../../core/collect-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { collectProgressQuery, type CollectResult } from '../../workflows/collect';
import { connectClient, workflowUiUrl } from '../client';
import { parseFlags } from '../flags';
import { followWorkflow } from '../follow';
import { loadPipelineConfig, presetFile, PRESETS } from '../pipeline-config';
import { progressBar } from '../progress-bar';
import { describeIssues } from '../../core/zod-issues';

export const describe = 'collect expert trajectories: collect [--config FILE | --preset smoke|demo|paper] [--tasks a,b] [--json]';

const Flags = z.object({
  config: z.string().optional(),
  preset: z.enum(PRESETS).default('demo'),
  tasks: z.string().optional(),
  json: z.boolean().default(false),
});

/** The collection input: a JSON config file (over the training tasks), or a preset's `collect` block; --tasks replaces the tasks. */
export function collectInputFromFlags(argv: string[]): { input: CollectInput; json: boolean } {
  const { flags } = parseFlags(Flags, argv);
  const tasks = flags.tasks?.split(',').map((t) => t.trim());
  const raw = flags.config
    ? { tasks: tasks ?? listTasks().filter((t) => t.split === 'train').map((t) => t.name), ...JSON.parse(fs.readFileSync(flags.config, 'utf8')) }
    : { ...loadPipelineConfig(presetFile(flags.preset)).collect, ...(tasks && { tasks }) };
  const parsed = CollectInput.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${flags.config ?? `preset ${flags.preset}`}: ${describeIssues(parsed.error)}`);
  }
  const known = new Set(listTasks().map((t) => t.name));
  const unknown = parsed.data.tasks.filter((t) => !known.has(t));
  if (unknown.length) throw new Error(`unknown task(s): ${unknown.join(', ')} (see \`mlagent tasks list\`)`);
  return { input: raw as CollectInput, json: flags.json };
}

export async function runCollect(p: { input: CollectInput; json: boolean }): Promise<CollectResult | undefined> {
  const { client, close } = await connectClient();
  try {
    const workflowId = `collect-${Date.now()}`;
    const handle = await client.workflow.start('collectTrajectories', { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [p.input] });
    const ui = workflowUiUrl({ namespace: client.options.namespace, workflowId });
    console.log(`collection ${workflowId} started\n  Temporal UI: ${ui}`);
    const bar = progressBar('episodes');
    const started = Date.now();
    const r = await followWorkflow<CollectResult>({
      handle,
      ui,
      poll: async () => {
        const pr = await handle.query(collectProgressQuery);
        bar.update(pr.done, pr.total, `${pr.stage}${pr.failed ? `, ${pr.failed} failed` : ''}`);
      },
    });
    bar.end();
    if (!r) return undefined;
    const minutes = (Date.now() - started) / 60_000;
    if (p.json) console.log(JSON.stringify(r, null, 2));
    else {
      const store = new ArtifactStore();
      const ok = r.episodes.filter((e) => e.ok).length;
      console.log(`\n${ok}/${r.episodes.length} episodes ok in ${minutes.toFixed(1)} min (${(ok / minutes).toFixed(2)} trajectories/min)`);
      console.log(`sandbox time ${r.sandboxSeconds.toFixed(0)} s; metric cache ${r.metricCache.hits}/${r.metricCache.evaluations} hits (${(r.metricCache.hitRate * 100).toFixed(0)}%)`);
      for (const e of r.episodes.filter((x) => !x.ok)) console.log(`  failed: ${e.workflowId}: ${e.error}`);
      if (Object.keys(r.raisedBest).length) console.log(`m_best raised: ${JSON.stringify(r.raisedBest)}`);
      console.log(`states pool: ${r.counts.states} states  ${store.pathOf(r.statesPool)}`);
      console.log(`SFT dataset: ${r.counts.sftPairs} pairs   ${store.pathOf(r.sft)}`);
      console.log(`ShareGPT:    ${store.pathOf(r.sharegpt)}`);
    }
    return r;
  } finally {
    await close();
  }
}

export async function run(argv: string[]): Promise<number> {
  return (await runCollect(collectInputFromFlags(argv))) ? 0 : 1;
}
