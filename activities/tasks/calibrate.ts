import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TaskSpec } from '../../core/task-schema';
import { HOST_PYTHON, runHost } from './host-run';
import { prepareTask, preparedFileHashes } from './prepare';
import { loadTask, saveTask, taskDir } from './registry';
import { scoreSubmission } from './score';
import { hiddenReachableByTask, runStarter } from './validate';

const REFERENCE_TIMEOUT_MS = 15 * 60_000;
/** Shared helpers of the reference solutions (reference_lib.py), never part of a task's public files. */
const REFERENCE_LIB_DIR = __dirname;

export function better(spec: TaskSpec, a: number, b: number): number {
  return spec.metric.direction === 'higher' ? Math.max(a, b) : Math.min(a, b);
}

/** The reference solution (kept outside the public files) run on the host in a scratch copy of the public files. */
async function scoreReference(spec: TaskSpec, publicDir: string): Promise<{ metric: number; seconds: number } | null> {
  const solution = path.join(taskDir(spec.name), 'reference', 'solution.py');
  if (!fs.existsSync(solution)) return null;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `mlagent-ref-${spec.name}-`));
  try {
    fs.cpSync(publicDir, work, { recursive: true });
    fs.copyFileSync(solution, path.join(work, 'solution.py'));
    const run = await runHost({ cmd: HOST_PYTHON, args: ['solution.py'], cwd: work, timeoutMs: REFERENCE_TIMEOUT_MS, env: { PYTHONPATH: REFERENCE_LIB_DIR } });
    const submission = fs.existsSync(path.join(work, 'submission.csv')) ? fs.readFileSync(path.join(work, 'submission.csv')) : null;
    const score = await scoreSubmission({ task: spec.name, submission });
    if (!score.ok) throw new Error(`reference solution of ${spec.name}: ${score.error}`);
    return { metric: score.metric, seconds: run.seconds };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export type Calibration = { task: string; m_init: number; reference: number | null; referenceSec: number | null; m_best: number };

/**
 * Re-measures a task after its data or starter changed: m_init from the starter in the sandbox, m_best
 * from the reference solution (or m_init when there is none), and pins the prepared files' hashes.
 */
export async function calibrateTask(name: string): Promise<Calibration> {
  const old = loadTask(name);
  // The pinned hashes describe the old files; drop them so prepare may produce the new ones.
  saveTask({ ...old, provenance: { ...old.provenance, fileSha256: undefined } });
  const prepared = await prepareTask(name);
  const run = await runStarter(name);
  if (!run.score.ok) throw new Error(`starter of ${name} failed: ${run.score.error}\n${run.stderrTail}`);
  const reachable = (await hiddenReachableByTask([{ task: name, ...prepared }])).get(name)!;
  if (reachable.length) throw new Error(`hidden files of ${name} reachable in the sandbox: ${reachable.join(', ')}`);
  const m_init = run.score.metric;
  const ref = await scoreReference(old, prepared.publicDir);
  const spec: TaskSpec = {
    ...old,
    m_init,
    m_best: ref ? better(old, ref.metric, m_init) : m_init,
    provenance: { ...old.provenance, fileSha256: preparedFileHashes(prepared) },
  };
  saveTask(spec);
  return { task: name, m_init, reference: ref?.metric ?? null, referenceSec: ref?.seconds ?? null, m_best: spec.m_best };
}
