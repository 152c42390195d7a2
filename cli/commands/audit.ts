import { z } from 'zod';
import { auditRun, type AuditRow } from '../audit';
import { runCommand } from '../run-command';

export const describe = 'every agent action of a run: audit RUN [--task T] [--stage collect|evaluate|episode|ppo] [--mode stepwise|episodic] [--action NAME] [--excerpt N] [--jsonl]';

const Flags = z.object({
  task: z.string().min(1).optional(),
  stage: z.enum(['collect', 'evaluate', 'episode', 'ppo']).optional(),
  /** PPO actions of one rollout mode only (step-wise ML-Agent, or the episodic baseline). */
  mode: z.enum(['stepwise', 'episodic']).optional(),
  /** An action name as the agent wrote it (`Edit Script`), or `invalid`; case-insensitive. */
  action: z.string().min(1).optional(),
  /** Characters of each observation kept (head and tail). */
  excerpt: z.coerce.number().int().min(20).max(100_000).default(240),
  jsonl: z.boolean().default(false),
});

const cell = (v: unknown, width: number) => {
  const s = (typeof v === 'string' ? v : v === null || v === undefined ? '-' : typeof v === 'number' ? String(+v.toFixed(4)) : JSON.stringify(v)).replace(/\s+/g, ' ');
  return (s.length > width ? `${s.slice(0, width - 1)}…` : s).padEnd(width);
};

function printTable(rows: AuditRow[]): void {
  console.log(`${cell('stage', 12)} ${cell('task', 16)} ${cell('agent', 10)} ${cell('episode', 34)} ${cell('step', 4)} ${cell('action', 20)} ${cell('outcome', 11)} ${cell('reward', 6)} ${cell('metric', 9)} ${cell('input', 40)} observation`);
  for (const r of rows) {
    console.log(`${cell(r.mode ? `${r.stage}:${r.mode}` : r.stage, 12)} ${cell(r.task, 16)} ${cell(r.agent, 10)} ${cell(r.episode, 34)} ${cell(r.step, 4)} ${cell(r.action, 20)} ${cell(r.kind, 11)} ${cell(r.reward, 6)} ${cell(r.metric, 9)} ${cell(r.actionInput, 40)} ${cell(r.observation, 80).trimEnd()}`);
  }
  console.log(`${rows.length} action(s)`);
}

export async function run(argv: string[]): Promise<number> {
  return runCommand({
    argv,
    flags: Flags,
    usage: 'mlagent audit RUN [--jsonl]',
    act: async ({ client, workflowId, flags }) => {
      const rows = (await auditRun({ client, workflowId, excerptChars: flags.excerpt })).filter(
        (r) => (!flags.task || r.task === flags.task) && (!flags.stage || r.stage === flags.stage) && (!flags.mode || r.mode === flags.mode) && (!flags.action || r.action.toLowerCase() === flags.action.toLowerCase()),
      );
      if (flags.jsonl) for (const r of rows) console.log(JSON.stringify(r));
      else printTable(rows);
      return 0;
    },
  });
}
