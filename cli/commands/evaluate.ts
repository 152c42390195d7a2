import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifact-store';
import { listTasks } from '../../activities/tasks/registry';
import { EvaluateInput, PIPELINE_AGENTS, type EvaluatedAgent } from '../../core/evaluation';
import { evaluationText } from '../../core/evaluation-table';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { describeIssues } from '../../core/zod-issues';
import { loadModelRecord } from '../../model/model-registry';
import { resolveCheckpoint } from '../../model/resolve-checkpoint';
import { DEFAULT_BASE_MODEL } from '../../model/sft-params';
import type { EvaluateResult } from '../../workflows/evaluate';
import { connectClient, workflowUiUrl } from '../client';
import { parseFlags } from '../flags';
import { followWorkflow } from '../follow';

export const describe =
  'held-out evaluation table (avg@K, best@K, Δ_r, valid actions and submissions, failures): evaluate [--checkpoint [ROW=]SHA256[,…]] [--base] [--llm | --llm-model M [--llm-base-url URL]] [--k 3] [--tasks a,b]';

export const Flags = z.object({
  /** one or more policies, comma-separated, each `[ROW=]SHA256`: several in one run share tasks, K and seeds */
  checkpoint: z
    .string()
    .regex(/^([A-Za-z0-9_.+-]+=)?[0-9a-f]{64}(,([A-Za-z0-9_.+-]+=)?[0-9a-f]{64})*$/, 'comma-separated checkpoints, each a sha256 (printed by `mlagent train`) optionally named ROW=SHA256')
    .optional(),
  /** the pretrained model with no fine-tuning (`--base-model`, the imported default unless given) */
  base: z.boolean().default(false),
  'base-model': z.string().min(1).default(DEFAULT_BASE_MODEL),
  /** an OpenAI-compatible model: the orchestrator worker's (MLAGENT_LLM_*), another model on it, or another endpoint */
  llm: z.boolean().default(false),
  'llm-model': z.string().min(1).optional(),
  'llm-base-url': z.url().optional(),
  k: z.coerce.number().int().min(1).max(20).default(3),
  tasks: z.string().optional(),
  'max-steps': z.coerce.number().int().min(1).max(100).default(15),
  /** how long a policy decision may wait for a model worker before its episode fails */
  'model-wait-sec': z.coerce.number().int().min(1).default(300),
  json: z.boolean().default(false),
});

async function agentsOf(flags: z.output<typeof Flags>): Promise<EvaluatedAgent[]> {
  const agents: EvaluatedAgent[] = [];
  if (flags.base) {
    const record = await loadModelRecord(flags['base-model']);
    if (!record) throw new Error(`--base: model "${flags['base-model']}" is not imported (\`mlagent model list\`; \`make setup\` imports the default)`);
    agents.push({ name: PIPELINE_AGENTS.base, agent: { kind: 'policy', checkpoint: record.checkpoint } });
  }
  for (const { row, sha256 } of checkpointRows(flags.checkpoint)) {
    agents.push({ name: row, agent: { kind: 'policy', checkpoint: (await resolveCheckpoint(new ArtifactStore(), sha256)).ref } });
  }
  agents.push({ name: PIPELINE_AGENTS.reference, agent: { kind: 'scripted' }, ideas: {} });
  if (flags.llm || flags['llm-model'] || flags['llm-base-url']) {
    agents.push({ name: 'llm', agent: { kind: 'llm', model: flags['llm-model'], baseUrl: flags['llm-base-url'] } });
  }
  return agents;
}

/** The table rows of `--checkpoint` (already checked by Flags): `ROW=` names a row, else `policy` (`policy-<sha>` for several). */
export function checkpointRows(spec: string | undefined): { row: string; sha256: string }[] {
  const entries = spec ? spec.split(',').map((c) => (c.includes('=') ? c.split('=') : [undefined, c]) as [string | undefined, string]) : [];
  return entries.map(([row, sha256]) => ({ row: row ?? (entries.length === 1 ? 'policy' : `policy-${sha256.slice(0, 12)}`), sha256 }));
}

/** The scripted expert with diverse ideas is the reference and the starter a row of its own; the other agents join by flag. */
export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(Flags, argv);
  const tasks = flags.tasks ? flags.tasks.split(',').map((t) => t.trim()) : listTasks().filter((t) => t.split === 'heldout').map((t) => t.name);
  const agents = await agentsOf(flags);
  const parsed = EvaluateInput.safeParse({ tasks, agents, k: flags.k, limits: { maxSteps: flags['max-steps'], modelWorkerLostAfterSec: flags['model-wait-sec'] } });
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
    console.log(flags.json ? JSON.stringify(result, null, 2) : `\n${evaluationText(result)}`);
    return 0;
  } finally {
    await close();
  }
}
