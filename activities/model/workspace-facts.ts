import { LRUCache } from 'lru-cache';
import { ACTION_NAMES, type Action, type ActionName } from '../../core/actions';
import { applyEdits } from '../../core/apply-edits';
import type { ArtifactRef } from '../../core/artifact-ref';
import type { WorkspaceFacts } from '../../model/action-grammar';
import type { ConstraintOptions } from '../../model/constrained-decoding';
import { llmConfigFromEnv } from '../llm/client';
import { ArtifactStore } from '../artifact-store';
import { checkRelativePath, readTar, toWorkspaceEntries } from '../sandbox/workspace-tar';

/** Scripts larger than this are still listed and runnable, but not offered line by line to edit. */
const MAX_SCRIPT_BYTES = 64 * 1024;
const SCRIPT = /\.py$/;

/** What a workspace snapshot holds, as constrained decoding needs it: its directories, files and Python scripts. */
export function factsOfEntries(entries: { path: string; type: string; data: Buffer }[]): WorkspaceFacts {
  const files = entries.filter((e) => e.type === 'file');
  return {
    dirs: ['.', ...entries.filter((e) => e.type === 'dir').map((e) => e.path)],
    files: files.map((e) => e.path),
    scripts: files.filter((e) => SCRIPT.test(e.path) && e.data.length <= MAX_SCRIPT_BYTES).map((e) => ({ path: e.path, text: e.data.toString('utf8') })),
  };
}

/** Facts of the snapshots this process read last: an episode decides many times from one state until it edits. */
const recent = new LRUCache<string, WorkspaceFacts>({ max: 32 });

/** The facts of a stored workspace snapshot (a deterministic workspace tar). */
export async function workspaceFacts(ref: ArtifactRef, store = new ArtifactStore()): Promise<WorkspaceFacts> {
  const hit = recent.get(ref.sha256);
  if (hit) return hit;
  const facts = factsOfEntries(toWorkspaceEntries(await readTar(await store.get(ref))));
  recent.set(ref.sha256, facts);
  return facts;
}

/**
 * The actions the environment can carry out. `Edit Script (AI)` needs a coder LLM, configured by the same
 * environment variables for every worker of a deployment (`mlagent dev up` starts them all with one environment):
 * without one, a constrained policy is not offered an action that can only fail.
 */
export function environmentActions(env: NodeJS.ProcessEnv = process.env): ActionName[] {
  return llmConfigFromEnv(env)?.model ? [...ACTION_NAMES] : ACTION_NAMES.filter((a) => a !== 'Edit Script (AI)');
}

/** The constraint for acting from a state: the environment's actions, grounded in the state's workspace when known. */
export async function stateConstraint(workspace: ArtifactRef | undefined): Promise<ConstraintOptions> {
  return { actions: environmentActions(), ...(workspace ? { workspace: await workspaceFacts(workspace) } : {}) };
}

/**
 * Why an action could not run in a workspace without executing anything (a missing path, an edit that does not
 * apply, an action the environment lacks), or null: what grounded decoding rules out, checked for any response.
 */
export function misfit(action: Action, ws: WorkspaceFacts, actions: readonly ActionName[] = environmentActions()): string | null {
  if (!actions.includes(action.name)) return `${action.name} is not available here`;
  const input: Record<string, unknown> = action.input;
  // the sandbox's own normalisation; a path leaving the workspace names nothing in it
  const path = (p: unknown) => { try { return checkRelativePath(String(p)) || '.'; } catch { return null; } };
  const has = (names: string[], p: unknown) => names.includes(path(p) ?? '');
  if (typeof input.dir_path === 'string' && !has(ws.dirs, input.dir_path)) return `no directory ${input.dir_path}`;
  if (typeof input.file_name === 'string' && !has(ws.files, input.file_name)) return `no file ${input.file_name}`;
  if (typeof input.script_name === 'string' && !has(ws.files, input.script_name)) return `no script ${input.script_name}`;
  if (action.name === 'Edit Script') {
    const script = ws.scripts.find((s) => s.path === path(action.input.script_name));
    const applied = script && applyEdits(script.text, action.input.edits);
    if (applied && !applied.ok) return applied.error;
  }
  return null;
}
