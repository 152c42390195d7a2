/**
 * Valid-action rate of a checkpoint acting zero-shot (free decoding, greedy) on the states of the trajectories
 * in the artifact store, each prompt rendered as policyAct renders it. A measurement, not a test:
 *   npx tsx bench/zero-shot-actions.ts [--model NAME] [--states N] [--max-new-tokens N]
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ArtifactStore } from '../activities/artifact-store';
import { renderStatePrompt } from '../activities/model/policy-act';
import { loadTask } from '../activities/tasks/registry';
import { parseResponse } from '../core/parse-response';
import { promptState, type PromptState } from '../core/prompt';
import { initBackend } from '../model/backend';
import { PromptRenderer } from '../model/chat-prompt';
import { getCheckpoint, modelFromFiles } from '../model/checkpoint';
import { generate } from '../model/generate';
import { loadModelRecord } from '../model/model-registry';
import { DEFAULT_BASE_MODEL } from '../model/sft-params';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** Every distinct (task, episode, step) state of the trajectory artifacts in the store, in a fixed order. */
async function storedStates(store: ArtifactStore): Promise<{ key: string; state: PromptState }[]> {
  const objects = path.join(store.root, 'objects');
  const out = new Map<string, PromptState>();
  for (const dir of (await fs.readdir(objects)).sort()) {
    for (const f of (await fs.readdir(path.join(objects, dir))).sort()) {
      const file = path.join(objects, dir, f);
      if ((await fs.stat(file)).size > 20_000_000) continue;
      const head = (await fs.readFile(file)).subarray(0, 200).toString('utf8');
      // trajectory lines (StepRecord + episode fields) and states-pool lines (PoolState)
      if (!head.startsWith('{"episodeId"') && !head.startsWith('{"task"')) continue;
      for (const line of (await fs.readFile(file, 'utf8')).split('\n')) {
        let s: { task?: string; episodeId?: string; step?: number; seedIdeas?: { text: string }[]; history?: { response: string; observation: string }[]; state?: { history?: { response: string; observation: string }[] } };
        try { s = JSON.parse(line); } catch { break; }
        const history = s.state?.history ?? s.history;
        if (!s.task || !s.episodeId || s.step === undefined || !history) continue;
        const key = `${s.task}/${s.episodeId}/${s.step}`;
        if (!out.has(key)) out.set(key, promptState({ researchProblem: loadTask(s.task).researchProblem, seedIdeas: s.seedIdeas ?? [], history }));
      }
    }
  }
  return [...out].sort(([a], [b]) => a.localeCompare(b)).map(([key, state]) => ({ key, state }));
}

(async () => {
  const name = flag('model', DEFAULT_BASE_MODEL);
  const maxNewTokens = Number(flag('max-new-tokens', '64'));
  await initBackend();
  const record = await loadModelRecord(name);
  if (!record) throw new Error(`${name} is not imported: run make setup`);
  const store = new ArtifactStore();
  const files = await getCheckpoint(store, record.checkpoint);
  const { model, tokenizer } = modelFromFiles(files, name);
  const renderer = PromptRenderer.forCheckpoint(files, tokenizer, name);
  const all = await storedStates(store);
  const want = Number(flag('states', '30'));
  // spread over the list (tasks and steps), not the first N
  const picked = Array.from({ length: Math.min(want, all.length) }, (_, i) => all[Math.floor((i * all.length) / Math.min(want, all.length))]);
  const counts: Record<string, number> = {};
  let valid = 0;
  const t0 = Date.now();
  for (const { key, state } of picked) {
    const prompt = renderStatePrompt({ model, renderer, state, maxNewTokens });
    const [g] = generate(model, tokenizer, [prompt], { temperature: 0, maxNewTokens, decoding: 'free' });
    const p = parseResponse(g.text);
    const label = p.ok ? p.action.name : p.error.split(';')[0].slice(0, 60);
    counts[label] = (counts[label] ?? 0) + 1;
    if (p.ok) valid++;
    console.log(`${key}\t${tokenizer.encode(prompt).length} prompt tokens\t${p.ok ? 'VALID' : 'invalid'}\t${JSON.stringify(g.text.slice(0, 120))}`);
  }
  console.log(JSON.stringify({ model: name, states: picked.length, of: all.length, maxNewTokens, valid, validRate: valid / picked.length, outcomes: counts, seconds: (Date.now() - t0) / 1000 }, null, 1));
  model.dispose();
})();
