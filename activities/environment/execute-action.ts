import path from 'node:path';
import type { Action } from '../../core/actions';
import { applyEdits } from '../../core/apply-edits';
import type { StepKind } from '../../core/episode-schema';
import type { TokenUsage } from '../../core/llm-schemas';
import { coderEdit } from '../agents/coder';
import type { LlmClient } from '../llm/client';
import type { Sandbox } from '../sandbox/sandbox';
import { llmAnswer, UNDERSTAND_FILE_PY } from './understand-file';

export interface ActionOutcome {
  observation: string;
  kind: StepKind;
  /** Set when a script run succeeded and left a submission.csv: the caller scores it. */
  submission?: Buffer;
  /** The workspace's code changed (edit or undo): its metric must be re-evaluated. */
  workspaceChanged?: boolean;
  /** Token usage of the LLM calls the action made (coder, LLM summary); absent when it made none. */
  usage?: TokenUsage[];
  seconds: number;
}

interface ActionParams {
  sandbox: Sandbox;
  action: Action;
  scriptTimeoutSec: number;
  /** The chat model for `Edit Script (AI)` and `Understand File`; without one they work offline or refuse. */
  llm?: LlmClient;
}

/** Edit backups live in the workspace so that Undo survives snapshot/restore. */
const BACKUP_DIR = '.backup';
export const SUBMISSION_FILE = 'submission.csv';

/** Raised for agent mistakes (bad path, missing file): feedback with reward 0, never an activity failure. */
class ActionError extends Error {}

/**
 * Executes one parsed action in the episode's sandbox. Agent mistakes become an `error` outcome with a
 * message that tells the agent what went wrong; only infrastructure failures throw.
 */
export async function executeAction(p: ActionParams): Promise<ActionOutcome> {
  const started = Date.now();
  // Collected as calls are made, so an action that then fails still reports the tokens it spent.
  const usage: TokenUsage[] = [];
  const done = (r: Omit<ActionOutcome, 'seconds'>): ActionOutcome => ({ ...r, ...(usage.length > 0 && { usage }), seconds: (Date.now() - started) / 1000 });
  try {
    return done(await dispatch(p, usage));
  } catch (err) {
    if (err instanceof ActionError) return done({ observation: `Error: ${err.message}`, kind: 'error' });
    throw err;
  }
}

async function dispatch({ sandbox, action, scriptTimeoutSec, llm }: ActionParams, usage: TokenUsage[]): Promise<Omit<ActionOutcome, 'seconds'>> {
  switch (action.name) {
    case 'List Files': {
      const dir = workspacePath(action.input.dir_path);
      const entries = await sandbox.listFiles(dir).catch(() => {
        throw new ActionError(`cannot list "${action.input.dir_path}": no such directory`);
      });
      const lines = entries.map((e) => (e.type === 'dir' ? `${e.path}/` : `${e.path} (${e.size} bytes)`));
      return nonEdit(lines.length ? lines.join('\n') : '(empty directory)');
    }
    case 'Read File':
      return nonEdit((await readText(sandbox, action.input.file_name)).toString());
    case 'Inspect Script Lines': {
      const { script_name, start_line_number: from, end_line_number: to } = action.input;
      if (to - from > 100) throw new ActionError('the number of lines to display is limited to 100');
      const lines = (await readText(sandbox, script_name)).split('\n');
      if (from > lines.length) throw new ActionError(`${script_name} has only ${lines.length} lines`);
      const shown = lines.slice(from - 1, to).map((l, i) => `${from + i}: ${l}`);
      return nonEdit(`Here are the lines (the file ends at line ${lines.length}):\n${shown.join('\n')}`);
    }
    case 'Understand File': {
      const file = workspacePath(action.input.file_name);
      const content = await readText(sandbox, file);
      const res = await sandbox.exec({ cmd: ['python3', '-c', UNDERSTAND_FILE_PY, file, action.input.things_to_look_for], timeoutMs: 60_000 });
      if (res.exitCode !== 0) throw new ActionError(`could not summarise ${file}: ${res.stderr.trim().split('\n').pop() ?? ''}`);
      if (!llm) return nonEdit(`${res.stdout.trimEnd()}\n(Offline structural summary: no LLM is configured to answer things_to_look_for.)`);
      const answered = await llmAnswer({ client: llm, fileName: file, content, thingsToLookFor: action.input.things_to_look_for });
      usage.push(answered.usage);
      return nonEdit(`${res.stdout.trimEnd()}\n\nAnswer:\n${answered.answer}`);
    }
    case 'Edit Script': {
      const file = workspacePath(action.input.script_name);
      const before = await readText(sandbox, file);
      const applied = applyEdits(before, action.input.edits);
      if (!applied.ok) throw new ActionError(`${file} was not changed: ${applied.error}`);
      await backup(sandbox, file, before);
      await sandbox.writeFile(file, applied.text);
      return { kind: 'edit', workspaceChanged: true, observation: `The edited file is saved to ${file}. Here is the diff:\n${diff(before, applied.text)}` };
    }
    case 'Edit Script (AI)': {
      if (!llm) throw new ActionError('"Edit Script (AI)" needs a coder LLM and none is configured (set MLAGENT_LLM_BASE_URL); use "Edit Script" with exact {old, new} edits');
      const file = workspacePath(action.input.script_name);
      const saveAs = workspacePath(action.input.save_name);
      const before = await readText(sandbox, file);
      const edited = await coderEdit({ client: llm, scriptName: file, script: before, instruction: action.input.edit_instruction });
      usage.push(edited.usage);
      if (!edited.ok) throw new ActionError(`${saveAs} was not written: ${edited.error}`);
      if (edited.code === before && saveAs === file) throw new ActionError(`the coder returned ${file} unchanged; nothing was written`);
      const previous = await sandbox.readFile(saveAs).catch(() => undefined);
      if (previous) await backup(sandbox, saveAs, previous.toString('utf8'));
      await sandbox.writeFile(saveAs, edited.code);
      return { kind: 'edit', workspaceChanged: true, observation: `The edited file is saved to ${saveAs}. Here is the diff against ${file}:\n${diff(before, edited.code)}` };
    }
    case 'Undo Edit Script': {
      const file = workspacePath(action.input.script_name);
      const backups = await listBackups(sandbox, file);
      const last = backups.at(-1);
      if (!last) throw new ActionError(`there is no edit of ${file} to undo`);
      const previous = await sandbox.readFile(last);
      await sandbox.writeFile(file, previous);
      await sandbox.exec({ cmd: ['rm', '-f', last], timeoutMs: 10_000 });
      // Undo counts as a non-edit action for the reward (DESIGN.md), but it does change the workspace.
      return { kind: 'non_edit', workspaceChanged: true, observation: `${file} is restored to its version before the last edit. Here is its content now:\n${previous.toString()}` };
    }
    case 'Execute Script':
      return executeScript(sandbox, workspacePath(action.input.script_name), scriptTimeoutSec);
    case 'Final Answer':
      return nonEdit(`Final answer recorded: ${action.input.final_answer}`);
  }
}

async function executeScript(sandbox: Sandbox, file: string, timeoutSec: number): Promise<Omit<ActionOutcome, 'seconds'>> {
  if (!file.endsWith('.py')) throw new ActionError(`only Python scripts can be executed, not "${file}"`);
  await readText(sandbox, file);
  // A stale submission must never be scored for a run that failed to write a new one.
  await sandbox.exec({ cmd: ['rm', '-f', SUBMISSION_FILE], timeoutMs: 10_000 });
  const res = await sandbox.exec({ cmd: ['python3', file], timeoutMs: timeoutSec * 1000 });
  const output = `${res.stdout}${res.stderr ? `\n${res.stderr}` : ''}`.trim();
  if (res.timedOut) return { kind: 'corner_case', observation: `The script was stopped after the ${timeoutSec} s time limit. Output so far:\n${output}` };
  if (res.oomKilled) return { kind: 'corner_case', observation: `The script was killed: it ran out of memory. Output so far:\n${output}` };
  if (res.diskFull) return { kind: 'corner_case', observation: `The script failed: it ran out of disk space (${await spaceLimits(sandbox)}). Output:\n${output}` };
  if (res.exitCode !== 0) return { kind: 'error', observation: `The script failed with exit code ${res.exitCode}. Output:\n${output}` };
  const submission = await sandbox.readFile(SUBMISSION_FILE).catch(() => undefined);
  const note = submission ? '' : `\n(Note: the script did not write ${SUBMISSION_FILE}.)`;
  return { kind: 'non_edit', observation: `The script has been executed. Here is the output:\n${output}${note}`, submission };
}

/** Which writable places are full and how big they are, so the agent knows its budget. */
async function spaceLimits(sandbox: Sandbox): Promise<string> {
  const full = await sandbox.fullPlaces();
  if (full.length === 0) return 'the space it used was freed when it ended';
  return full.map((f) => `${f.path} is full at ${Math.round(f.sizeBytes / 1024 ** 2)} MiB`).join(', ');
}

function nonEdit(observation: string): Omit<ActionOutcome, 'seconds'> {
  return { kind: 'non_edit', observation };
}

/** Agent paths are relative to the workspace; anything escaping it is refused. */
function workspacePath(p: string): string {
  const norm = path.posix.normalize(p.trim() || '.');
  if (path.posix.isAbsolute(norm) || norm === '..' || norm.startsWith('../')) {
    throw new ActionError(`path "${p}" is outside the workspace; use paths relative to it`);
  }
  return norm === '' ? '.' : norm;
}

async function readText(sandbox: Sandbox, p: string): Promise<string> {
  const file = workspacePath(p);
  const data = await sandbox.readFile(file).catch(() => {
    throw new ActionError(`cannot read "${p}": no such file in the workspace`);
  });
  return data.toString('utf8');
}

async function listBackups(sandbox: Sandbox, file: string): Promise<string[]> {
  const prefix = `${file.replace(/\//g, '__')}.`;
  const entries = await sandbox.listFiles(BACKUP_DIR).catch(() => []);
  return entries
    .filter((e) => e.type === 'file' && path.posix.basename(e.path).startsWith(prefix))
    .map((e) => `${BACKUP_DIR}/${path.posix.basename(e.path)}`)
    .sort((a, b) => Number(a.slice(a.lastIndexOf('.') + 1)) - Number(b.slice(b.lastIndexOf('.') + 1)));
}

async function backup(sandbox: Sandbox, file: string, content: string): Promise<void> {
  const n = (await listBackups(sandbox, file)).length + 1;
  await sandbox.writeFile(`${BACKUP_DIR}/${file.replace(/\//g, '__')}.${n}`, content);
}

/** A compact line diff (changed region only) so the agent sees what its edit did. */
function diff(before: string, after: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length - 1;
  let endB = b.length - 1;
  while (endA >= start && endB >= start && a[endA] === b[endB]) {
    endA--;
    endB--;
  }
  const removed = a.slice(start, endA + 1).map((l) => `- ${l}`);
  const added = b.slice(start, endB + 1).map((l) => `+ ${l}`);
  return [`@@ line ${start + 1} @@`, ...removed, ...added].join('\n');
}
