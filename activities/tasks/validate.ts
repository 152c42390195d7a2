import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { targetOf, type TaskSpec } from '../../core/task-schema';
import { Sandbox } from '../sandbox';
import { hiddenFingerprints } from './hidden-fingerprints';
import { prepareTask } from './prepare';
import { loadTask } from './registry';
import { scoreSubmission, type ScoreResult } from './score';

/** Scores are deterministic (same Debian libraries on host and sandbox, one thread); this only absorbs float printing. */
export const M_INIT_TOLERANCE = 1e-6;

export type StarterRun = { score: ScoreResult; seconds: number; exitCode: number; timedOut: boolean; stdoutTail: string; stderrTail: string };

export type ValidationRow = {
  task: string;
  split: TaskSpec['split'];
  metric: string;
  m_init: number;
  score: number | null;
  prepareSec: number;
  runSec: number;
  ok: boolean;
  problems: string[];
};

const HIDDEN_SCAN = fs.readFileSync(path.join(__dirname, 'hidden-scan.py'), 'utf8');
/** Linux caps one argv string at 128 KiB (MAX_ARG_STRLEN); each task's fingerprints travel as one. */
const MAX_ARG_BYTES = 120 * 1024;
/** And all of argv plus the environment at ARG_MAX (2 MiB by default): room for ~150 tasks today. */
const MAX_ARGV_BYTES = 1536 * 1024;

const ScanOutput = z.object({
  found: z.array(
    z.object({ task: z.string(), path: z.string(), kind: z.enum(['file', 'content']), matched: z.number().int().optional(), of: z.number().int().optional() }),
  ),
  skipped: z.record(z.string(), z.number().int()),
});
export type HiddenFinding = z.infer<typeof ScanOutput>['found'][number];

export type ScanTask = { task: string; publicDir: string; hiddenDir: string };

/**
 * Files anywhere in the sandbox's filesystem from which a task's hidden answers can be read (should be none):
 * byte-identical copies of hidden files, and files holding runs of its answers or rows of its test set in any
 * format (hidden-scan.py). All tasks are checked in one walk over the filesystem; a task's own public files are
 * not findings for it.
 */
export async function findHiddenContent(sandbox: Sandbox, tasks: ScanTask[]): Promise<HiddenFinding[]> {
  const args = tasks.map((t) => JSON.stringify(hiddenFingerprints(t.task, t)));
  args.forEach((a, i) => {
    if (Buffer.byteLength(a) > MAX_ARG_BYTES) throw new Error(`hidden-content scan: fingerprints of ${tasks[i].task} take ${Buffer.byteLength(a)} bytes, over ${MAX_ARG_BYTES}`);
  });
  const total = args.reduce((n, a) => n + Buffer.byteLength(a), 0);
  if (total > MAX_ARGV_BYTES) throw new Error(`hidden-content scan: the fingerprints of ${tasks.length} tasks take ${total} bytes, over ${MAX_ARGV_BYTES}; scan fewer tasks at a time`);
  const scan = await sandbox.exec({ cmd: ['python3', '-c', HIDDEN_SCAN, ...args], timeoutMs: 20 * 60_000 });
  if (scan.exitCode !== 0) throw new Error(`hidden-content scan failed in the sandbox: ${scan.stderr.slice(-500)}`);
  return ScanOutput.parse(JSON.parse(scan.stdout)).found;
}

/**
 * What each task's agent could read of its hidden answers, from one scan of the sandbox image for all tasks.
 * An agent sees the image plus its own public files (which are no finding for it), so one scan of the image
 * with an empty workspace answers for every task what a scan per task with its workspace would.
 */
export async function hiddenReachableByTask(tasks: ScanTask[]): Promise<Map<string, string[]>> {
  const sandbox = await Sandbox.create({ labels: { 'mlagent.tasks': 'hidden-scan' } });
  try {
    const found = await findHiddenContent(sandbox, tasks);
    return new Map(tasks.map((t) => [t.task, found.filter((f) => f.task === t.task).map(describeFinding)]));
  } finally {
    await sandbox.destroy();
  }
}

export function describeFinding(f: HiddenFinding): string {
  return f.kind === 'file' ? `${f.path} (a hidden file's bytes)` : `${f.path} (${f.matched} of ${f.of} answer/test-row windows)`;
}

/** True when the score reproduces the recorded one within M_INIT_TOLERANCE (relative, at least absolute). */
export function reproduces(score: number, recorded: number): boolean {
  return Math.abs(score - recorded) <= M_INIT_TOLERANCE * Math.max(1, Math.abs(recorded));
}

/** Runs the starter `python3 train.py` in a fresh sandbox on the task's public files and scores its submission.csv on the host. */
export async function runStarter(name: string): Promise<StarterRun> {
  const spec = loadTask(name);
  const { publicDir } = await prepareTask(name);
  const sandbox = await Sandbox.create({ workspaceDir: publicDir, labels: { 'mlagent.tasks': name } });
  try {
    const run = await sandbox.exec({ cmd: ['python3', 'train.py'], timeoutMs: spec.scriptTimeoutSec * 1000 });
    const submission = await sandbox.readFile('submission.csv').catch(() => null);
    const score: ScoreResult =
      run.exitCode !== 0
        ? { ok: false, error: run.timedOut ? `train.py timed out after ${spec.scriptTimeoutSec} s` : `train.py exited ${run.exitCode}` }
        : await scoreSubmission({ task: name, submission });
    return {
      score,
      seconds: run.seconds,
      exitCode: run.exitCode,
      timedOut: run.timedOut,
      stdoutTail: run.stdout.slice(-2000),
      stderrTail: run.stderr.slice(-2000),
    };
  } finally {
    await sandbox.destroy();
  }
}

/**
 * Per task: prepare (cached), run the starter in the sandbox, score it, compare with m_init; and one scan of the
 * sandbox image for every task's hidden content, running next to the starters (it takes one CPU for about a
 * minute, the starters take another).
 */
export async function validateTasks(names: string[]): Promise<ValidationRow[]> {
  const rows: ValidationRow[] = [];
  const prepared: ScanTask[] = [];
  for (const name of names) {
    const { row, scan } = await prepareRow(name);
    rows.push(row);
    if (scan) prepared.push(scan);
  }
  const ready = rows.filter((r) => prepared.some((p) => p.task === r.task));
  const scanned = hiddenReachableByTask(prepared).then(
    (m) => ({ ok: true as const, m }),
    (err: unknown) => ({ ok: false as const, error: err instanceof Error ? err.message : String(err) }),
  );
  for (const row of ready) await runRow(row);
  const scan = await scanned;
  for (const row of ready) {
    if (!scan.ok) row.problems.push(scan.error);
    else if (scan.m.get(row.task)!.length) row.problems.push(`hidden content reachable in the sandbox at ${scan.m.get(row.task)!.join(', ')}`);
    row.ok = row.problems.length === 0;
  }
  return rows;
}

export async function validateTask(name: string): Promise<ValidationRow> {
  return (await validateTasks([name]))[0];
}

/** The task's row with preparation done, and what the hidden scan needs of it (none when preparing failed). */
async function prepareRow(name: string): Promise<{ row: ValidationRow; scan?: ScanTask }> {
  const spec = loadTask(name);
  const row: ValidationRow = {
    task: name,
    split: spec.split,
    metric: `${spec.metric.name} ${spec.metric.direction === 'higher' ? '↑' : '↓'}`,
    m_init: spec.m_init,
    score: null,
    prepareSec: 0,
    runSec: 0,
    ok: false,
    problems: [],
  };
  try {
    const t0 = performance.now();
    const { publicDir, hiddenDir } = await prepareTask(name);
    row.prepareSec = (performance.now() - t0) / 1000;
    // Built-in tasks have one known layout; an imported task's files are its own (its eval.py knows them).
    if (spec.provenance.kind === 'debian') {
      const testHeader = fs.readFileSync(path.join(publicDir, 'data', 'test.csv'), 'utf8').split('\n', 1)[0].split(',');
      const leaked = targetOf(spec).columns.filter((c) => testHeader.includes(c) || testHeader.includes(`"${c}"`));
      if (leaked.length) row.problems.push(`data/test.csv has answer column(s) ${leaked.join(', ')}`);
    }
    return { row, scan: { task: name, publicDir, hiddenDir } };
  } catch (err) {
    row.problems.push(err instanceof Error ? err.message : String(err));
    return { row };
  }
}

/** Runs and scores the starter into the row. */
async function runRow(row: ValidationRow): Promise<void> {
  const spec = loadTask(row.task);
  try {
    const run = await runStarter(row.task);
    row.runSec = run.seconds;
    if (!run.score.ok) row.problems.push(`${run.score.error}${run.stderrTail ? `: ${run.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
    else {
      row.score = run.score.metric;
      if (!reproduces(run.score.metric, spec.m_init)) row.problems.push(`score ${run.score.metric} does not reproduce m_init ${spec.m_init} (tolerance ${M_INIT_TOLERANCE} relative)`);
    }
    if (run.seconds > 30) row.problems.push(`starter took ${run.seconds.toFixed(1)} s (> 30 s)`);
  } catch (err) {
    row.problems.push(err instanceof Error ? err.message : String(err));
  }
}
