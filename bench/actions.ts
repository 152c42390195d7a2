/**
 * Valid-action rate of a policy on recorded agent states: every distinct (task, episode, step) state of the
 * trajectories and states pools in the artifact store, restricted to a task split, each prompt rendered exactly as
 * policyAct renders it, one greedy response each; where the state's workspace snapshot is stored, constrained
 * decoding is grounded in it and every response is also checked against it (`misfit`: paths, edits). A
 * measurement, not a test:
 *   npx mlagent bench actions [--model NAME | --checkpoint SHA256] [--split heldout|train|all] [--states N]
 *                             [--decoding free|constrained] [--max-new-tokens N] [--batch N] [--json]
 * Batched rows are left-padded, each with its own rotary positions, so a greedy response does not depend on its
 * neighbours (up to float rounding).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ArtifactStore } from '../activities/artifact-store';
import { renderStatePrompt } from '../activities/model/policy-act';
import { environmentActions, misfit, workspaceFacts } from '../activities/model/workspace-facts';
import type { ArtifactRef } from '../core/artifact-ref';
import { listTasks, loadTask } from '../activities/tasks/registry';
import { parseResponse } from '../core/parse-response';
import { promptState, type PromptState } from '../core/prompt';
import { initBackend } from '../model/backend';
import { PromptRenderer } from '../model/chat-prompt';
import { getCheckpoint, modelFromFiles } from '../model/checkpoint';
import { generate } from '../model/generate';
import { resolveCheckpoint } from '../model/resolve-checkpoint';
import { DEFAULT_BASE_MODEL } from '../model/sft-params';
import { parseFlags } from '../cli/flags';

const Flags = z.object({
  model: z.string().default(DEFAULT_BASE_MODEL),
  /** A checkpoint in the store (e.g. an SFT or PPO result's), instead of an imported model. */
  checkpoint: z.string().regex(/^[0-9a-f]{64}$/, 'a checkpoint sha256 (64 hex digits)').optional(),
  split: z.enum(['heldout', 'train', 'all']).default('heldout'),
  states: z.coerce.number().int().positive().default(100),
  decoding: z.enum(['free', 'constrained']).default('free'),
  'max-new-tokens': z.coerce.number().int().positive().max(2048).default(256),
  /** States decoded together (batch 1 took ~26 s a state on 2 cores, mostly one row's decode steps). */
  batch: z.coerce.number().int().positive().max(64).default(8),
  json: z.boolean().default(false),
});

interface StoredLine {
  task?: string;
  episodeId?: string;
  step?: number;
  seedIdeas?: { text: string }[];
  history?: { response: string; observation: string }[];
  state?: { history?: { response: string; observation: string }[]; snapshot?: ArtifactRef };
}

/** A recorded state: its prompt and, for trajectory steps, the workspace snapshot it was acted from. */
interface StoredState { key: string; state: PromptState; snapshot?: ArtifactRef }

/** Every distinct (task, episode, step) state of the trajectory and states-pool artifacts in the store, in a fixed order. */
async function storedStates(store: ArtifactStore, tasks: Set<string>): Promise<StoredState[]> {
  const objects = path.join(store.root, 'objects');
  const out = new Map<string, Omit<StoredState, 'key'>>();
  for (const dir of (await fs.readdir(objects)).sort()) {
    for (const f of (await fs.readdir(path.join(objects, dir))).sort()) {
      const file = path.join(objects, dir, f);
      if ((await fs.stat(file)).size > 20_000_000) continue;
      const bytes = await fs.readFile(file);
      const head = bytes.subarray(0, 200).toString('utf8');
      // trajectory lines (StepRecord + episode fields) and states-pool lines (PoolState)
      if (!head.startsWith('{"episodeId"') && !head.startsWith('{"task"')) continue;
      for (const line of bytes.toString('utf8').split('\n')) {
        let s: StoredLine;
        try { s = JSON.parse(line) as StoredLine; } catch { break; }
        const history = s.state?.history ?? s.history;
        if (!s.task || !tasks.has(s.task) || !s.episodeId || s.step === undefined || !history) continue;
        const key = `${s.task}/${s.episodeId}/${s.step}`;
        if (!out.has(key)) out.set(key, { state: promptState({ researchProblem: loadTask(s.task).researchProblem, seedIdeas: s.seedIdeas ?? [], history }), snapshot: s.state?.snapshot });
      }
    }
  }
  return [...out].sort(([a], [b]) => a.localeCompare(b)).map(([key, v]) => ({ key, ...v }));
}

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(Flags, argv);
  await initBackend();
  const store = new ArtifactStore();
  const { ref, id: label } = await resolveCheckpoint(store, flags.checkpoint ?? flags.model);
  const files = await getCheckpoint(store, ref);
  const { model, tokenizer } = modelFromFiles(files, label);
  const renderer = PromptRenderer.forCheckpoint(files, tokenizer, label);
  const tasks = new Set(listTasks().filter((t) => flags.split === 'all' || t.split === flags.split).map((t) => t.name));
  const all = await storedStates(store, tasks);
  if (all.length === 0) throw new Error(`no recorded ${flags.split} states in ${store.root}: run episodes on those tasks first (e.g. \`mlagent evaluate\` or \`mlagent collect --tasks …\`)`);
  const n = Math.min(flags.states, all.length);
  // spread over the list (tasks and steps), not the first N
  const picked = Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]);
  const outcomes: Record<string, number> = {};
  const byTask: Record<string, { states: number; valid: number; runnable: number }> = {};
  let valid = 0, runnable = 0, grounded = 0;
  let tokens = 0;
  const actions = environmentActions();
  const t0 = Date.now();
  for (let i = 0; i < picked.length; i += flags.batch) {
    const chunk = await Promise.all(picked.slice(i, i + flags.batch).map(async ({ key, state, snapshot }) => {
      // the workspace of states whose snapshot is in the store: constrained decoding is grounded in it, as policyAct's
      const stored = snapshot && (await fs.stat(store.pathOf(snapshot)).then(() => true, () => false));
      const facts = stored ? await workspaceFacts(snapshot, store) : undefined;
      return { key, facts, prompt: renderStatePrompt({ model, renderer, state, maxNewTokens: flags['max-new-tokens'] }) };
    }));
    const constraint = chunk.map(({ facts }) => ({ actions, ...(facts ? { workspace: facts } : {}) }));
    const gens = generate(model, tokenizer, chunk.map((c) => c.prompt), { temperature: 0, maxNewTokens: flags['max-new-tokens'], decoding: flags.decoding, constraint });
    chunk.forEach(({ key, facts }, j) => {
      const g = gens[j];
      if (facts) grounded++;
      tokens += g.tokens.length;
      const p = parseResponse(g.text);
      const unfit = p.ok && facts ? misfit(p.action, facts) : null;
      const outcome = !p.ok ? `invalid: ${p.error.split(';')[0].slice(0, 60)}` : unfit ? `misfit: ${unfit.slice(0, 60)}` : p.action.name;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      const task = key.split('/')[0];
      const t = (byTask[task] ??= { states: 0, valid: 0, runnable: 0 });
      t.states++;
      if (p.ok) { valid++; t.valid++; }
      if (p.ok && facts && !unfit) { runnable++; t.runnable++; }
      if (!flags.json) console.log(`${key}\t${!p.ok ? 'invalid' : unfit ? 'MISFIT' : 'VALID'}\t${JSON.stringify(g.text.slice(0, 120))}`);
    });
  }
  const seconds = (Date.now() - t0) / 1000;
  const summary = { policy: label, split: flags.split, decoding: flags.decoding, states: n, of: all.length, valid, validRate: valid / n, grounded, runnable, runnableRate: grounded ? runnable / grounded : null, byTask, outcomes, maxNewTokens: flags['max-new-tokens'], batch: flags.batch, tokensPerS: tokens / seconds, seconds };
  console.log(flags.json ? JSON.stringify(summary, null, 1) : `\n${label} (${flags.decoding}): ${valid}/${n} valid actions on ${flags.split} states (${(100 * valid / n).toFixed(1)}%); ${runnable}/${grounded} of the states with a stored workspace valid and fitting it (paths exist, edits apply); ${seconds.toFixed(0)} s`);
  model.dispose();
  return 0;
}
