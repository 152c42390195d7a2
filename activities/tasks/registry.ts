import { ApplicationFailure } from '@temporalio/common';
import fs from 'node:fs';
import path from 'node:path';
import { TaskSpec } from '../../core/task-schema';
import { describeIssues } from '../../core/zod-issues';

/** Folder holding one sub-folder per task (MLAGENT_TASKS_DIR lets tests point at fixtures). */
export function tasksRoot(): string {
  return path.resolve(process.env.MLAGENT_TASKS_DIR ?? path.join(__dirname, '../../tasks'));
}

export function taskDir(name: string): string {
  return path.join(tasksRoot(), name);
}

/** The starter script as the agent's workspace gets it: built-in tasks keep it at the top, imported ones in mlab/env. */
export function starterFile(spec: TaskSpec): string {
  return spec.provenance.kind === 'mlab' ? path.join(taskDir(spec.name), 'mlab', 'env', 'train.py') : path.join(taskDir(spec.name), 'train.py');
}

function taskNames(): string[] {
  return fs
    .readdirSync(tasksRoot(), { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(tasksRoot(), d.name, 'task.json')))
    .map((d) => d.name)
    .sort();
}

/** Reads and validates one task.json; any problem names the file and the field. */
export function readTaskFile(file: string): TaskSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = TaskSpec.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: ${describeIssues(parsed.error)}`);
  const dir = path.dirname(file);
  if (parsed.data.name !== path.basename(dir)) throw new Error(`${file}: name: '${parsed.data.name}' differs from its folder '${path.basename(dir)}'`);
  const p = parsed.data.provenance;
  if (p.kind === 'debian' && !fs.existsSync(path.join(dir, p.loader))) throw new Error(`${file}: provenance.loader: ${p.loader} does not exist in ${dir}`);
  return parsed.data;
}

export function listTasks(): TaskSpec[] {
  return taskNames().map((n) => readTaskFile(path.join(tasksRoot(), n, 'task.json')));
}

/** For activities: an unknown or malformed task is the caller's error, so retrying cannot help. */
export function loadTaskOrFail(name: string): TaskSpec {
  try {
    return loadTask(name);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'UnknownTask');
  }
}

export function loadTask(name: string): TaskSpec {
  const names = taskNames();
  if (!names.includes(name)) throw new Error(`unknown task '${name}' (known: ${names.join(', ')})`);
  return readTaskFile(path.join(tasksRoot(), name, 'task.json'));
}

/** Rewrites task.json with updated fields (calibration, recorded hashes), validated before writing. */
export function saveTask(spec: TaskSpec): void {
  const file = path.join(taskDir(spec.name), 'task.json');
  const valid = TaskSpec.parse(spec);
  fs.writeFileSync(file, JSON.stringify(valid, null, 2) + '\n');
}
