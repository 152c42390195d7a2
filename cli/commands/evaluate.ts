import fs from 'node:fs';
import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifact-store';
import { listTasks } from '../../activities/tasks/registry';
import { EvaluateInput } from '../../core/evaluation';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import type { EvaluateResult } from '../../workflows/evaluate';
import { connectClient, workflowUiUrl } from '../client';
import { parseFlags } from '../flags';
import { followWorkflow } from '../follow';
import { describeIssues } from '../../core/zod-issues';

export const describe = 'held-out evaluation (avg@K, best@K, gain over the starter): evaluate [--checkpoint SHA256] [--k 3] [--tasks a,b]';

const Flags = z.object({
  checkpoint: z.string().regex(/^[0-9a-f]{64}$/, 'a checkpoint sha256 (printed by `mlagent train`)').optional(),
  k: z.coerce.number().int().min(1).max(20).default(3),
  tasks: z.string().optional(),
  'max-steps': z.coerce.number().int().min(1).max(100).default(15),
  json: z.boolean().default(false),
});

/** The scripted expert without ideas is the baseline; the policy joins when a checkpoint is given. */
export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(Flags, argv);
  const tasks = flags.tasks ? flags.tasks.split(',').map((t) => t.trim()) : listTasks().filter((t) => t.split === 'heldout').map((t) => t.name);
  const agents: EvaluateInput['agents'] = [{ name: 'scripted', agent: { kind: 'scripted' } }];
  if (flags.checkpoint) {
    const store = new ArtifactStore();
    const ref = { sha256: flags.checkpoint, size: 0, kind: 'checkpoint' };
    if (!fs.existsSync(store.pathOf(ref))) throw new Error(`--checkpoint: ${flags.checkpoint} is not in the artifact store at ${store.root}`);
    agents.push({ name: 'policy', agent: { kind: 'policy', checkpoint: { ...ref, size: fs.statSync(store.pathOf(ref)).size } } });
  }
  const parsed = EvaluateInput.safeParse({ tasks, agents, k: flags.k, limits: { maxSteps: flags['max-steps'] } });
  if (!parsed.success) throw new Error(describeIssues(parsed.error));
  const known = new Set(listTasks().map((t) => t.name));
  const unknown = tasks.filter((t) => !known.has(t));
  if (unknown.length) throw new Error(`unknown task(s): ${unknown.join(', ')} (see \`mlagent tasks list\`)`);

  const { client, close } = await connectClient();
  try {
    const workflowId = `evaluate-${Date.now()}`;
    const handle = await client.workflow.start('evaluate', { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [parsed.data] });
    const ui = workflowUiUrl({ namespace: client.options.namespace, workflowId });
    console.log(`evaluation ${workflowId} started: ${agents.length} agent(s) × ${tasks.length} task(s) × K=${flags.k}\n  Temporal UI: ${ui}`);
    const result = await followWorkflow<EvaluateResult>({ handle, ui, poll: async () => undefined });
    if (!result) return 1;
    if (flags.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`\n${'agent'.padEnd(10)} ${'task'.padEnd(18)} ${'avg@K'.padEnd(10)} ${'best@K'.padEnd(10)} ${'m_init'.padEnd(10)} gain`);
      for (const s of result.scores) {
        console.log(`${s.agent.padEnd(10)} ${s.task.padEnd(18)} ${String(+s.avgAtK.toFixed(5)).padEnd(10)} ${String(+s.bestAtK.toFixed(5)).padEnd(10)} ${String(+s.mInit.toFixed(5)).padEnd(10)} ${(s.relativeGain * 100).toFixed(1)}%`);
      }
      for (const [name, a] of Object.entries(result.agents)) console.log(`${name}: mean relative gain ${(a.meanRelativeGain * 100).toFixed(2)}% over ${a.tasks} task(s)`);
    }
    return 0;
  } finally {
    await close();
  }
}
