import fs from 'node:fs';
import path from 'node:path';
import type { Direction, TaskSpec } from '../../core/task-schema';
import { calibrateTask } from './calibrate';
import { HOST_PYTHON, runHost } from './host-run';
import { loadTask, saveTask, tasksRoot } from './registry';

/** Files MLAgentBench's layout must have (prepare.py and read_only_files.txt are optional). */
const REQUIRED = ['env', 'scripts/research_problem.txt', 'scripts/eval.py'];

function listFiles(root: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(root, rel), { withFileTypes: true })
    .filter((d) => d.name !== '__pycache__')
    .flatMap((d) => (d.isDirectory() ? listFiles(root, path.join(rel, d.name)) : [path.join(rel, d.name)]))
    .sort();
}

/**
 * Converts an MLAgentBench task folder into tasks/<name>: copies env/ and scripts/ under mlab/, writes a
 * task.json whose metric is eval.py's get_score, then calibrates m_init (= m_best) by running train.py
 * in the sandbox. The public file list is what env/ holds after scripts/prepare.py ran.
 */
export async function importMlab(p: { dir: string; name?: string; split: TaskSpec['split']; direction: Direction }): Promise<TaskSpec> {
  const dir = path.resolve(p.dir);
  const missing = REQUIRED.filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length) throw new Error(`${dir} is not an MLAgentBench task: missing ${missing.join(', ')}`);
  if (!/def\s+get_score\s*\(/.test(fs.readFileSync(path.join(dir, 'scripts/eval.py'), 'utf8'))) {
    throw new Error(`${path.join(dir, 'scripts/eval.py')}: defines no get_score(submission_folder)`);
  }
  if (!fs.existsSync(path.join(dir, 'env', 'train.py'))) throw new Error(`${path.join(dir, 'env')}: has no starter train.py`);
  const name = p.name ?? path.basename(dir).replace(/[^A-Za-z0-9_-]/g, '_');
  const dest = path.join(tasksRoot(), name);
  if (fs.existsSync(dest)) throw new Error(`task folder ${dest} exists already`);

  const readOnlyFile = path.join(dir, 'scripts/read_only_files.txt');
  const readOnlyFiles = fs.existsSync(readOnlyFile) ? fs.readFileSync(readOnlyFile, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean) : [];
  // Run prepare.py once in a scratch copy to learn the public files it produces.
  const scratch = fs.mkdtempSync(path.join(tasksRoot(), `.import-${name}-`));
  try {
    fs.cpSync(path.join(dir, 'env'), path.join(scratch, 'env'), { recursive: true });
    fs.cpSync(path.join(dir, 'scripts'), path.join(scratch, 'scripts'), { recursive: true });
    if (fs.existsSync(path.join(scratch, 'scripts/prepare.py'))) {
      await runHost({ cmd: HOST_PYTHON, args: ['prepare.py'], cwd: path.join(scratch, 'scripts'), timeoutMs: 10 * 60_000 });
    }
    const publicFiles = listFiles(path.join(scratch, 'env'));
    fs.mkdirSync(path.join(dest, 'mlab'), { recursive: true });
    fs.cpSync(path.join(dir, 'env'), path.join(dest, 'mlab', 'env'), { recursive: true });
    fs.cpSync(path.join(dir, 'scripts'), path.join(dest, 'mlab', 'scripts'), { recursive: true });
    saveTask({
      name,
      split: p.split,
      type: 'mlab',
      researchProblem: fs.readFileSync(path.join(dir, 'scripts/research_problem.txt'), 'utf8').trim(),
      metric: { name: 'custom', direction: p.direction },
      publicFiles,
      scriptTimeoutSec: 300,
      provenance: { kind: 'mlab', source: dir, readOnlyFiles },
      m_init: 0,
      m_best: 0,
    });
  } catch (err) {
    fs.rmSync(dest, { recursive: true, force: true });
    throw err;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  await calibrateTask(name);
  return loadTask(name);
}
