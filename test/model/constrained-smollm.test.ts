import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import type { HistoryEntry } from '../../core/episode-schema';
import { parseResponse } from '../../core/parse-response';
import { promptMessages, promptState } from '../../core/prompt';
import { seededRandom } from '../../core/rng';
import { initBackend } from '../../model/backend';
import { ChatTemplate } from '../../model/chat-template';
import { getCheckpoint, modelFromFiles } from '../../model/checkpoint';
import { generate, type Generation } from '../../model/generate';
import { loadModelRecord } from '../../model/model-registry';
import { REPO } from './fixtures';

before(async () => { await initBackend(); });

/** The real steps (expert responses, sandbox observations) of the recorded co2 episode. */
function recordedSteps(): HistoryEntry[] {
  const events = (JSON.parse(fs.readFileSync(path.join(REPO, 'test/fixtures/histories/runEpisode.json'), 'utf8')) as { events: Record<string, unknown>[] }).events;
  const names = new Map<string, string>();
  const responses: string[] = [], observations: string[] = [];
  for (const e of events) {
    const sched = e.activityTaskScheduledEventAttributes as { activityType: { name: string } } | undefined;
    if (sched) names.set(String(e.eventId), sched.activityType.name);
    const done = e.activityTaskCompletedEventAttributes as { scheduledEventId: string; result?: { payloads: { data?: string }[] } } | undefined;
    const data = done?.result?.payloads[0]?.data;
    if (!done || !data) continue;
    const result = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { response?: string; observation?: string };
    const name = names.get(done.scheduledEventId);
    if (name === 'decideAction') responses.push(result.response!);
    if (name === 'runAction') observations.push(result.observation!);
  }
  assert.ok(responses.length >= 5 && responses.length === observations.length, `${responses.length} responses, ${observations.length} observations`);
  return responses.map((response, i) => ({ response, observation: observations[i] }));
}

/** Research problems of the held-out tasks (the split no policy trains on). */
function heldOutProblems(): string[] {
  const dir = path.join(REPO, 'tasks');
  return fs.readdirSync(dir).sort().flatMap((t) => {
    const file = path.join(dir, t, 'task.json');
    if (!fs.existsSync(file)) return [];
    const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as { split: string; researchProblem: string };
    return spec.split === 'heldout' ? [spec.researchProblem] : [];
  });
}

const validRate = (gens: Generation[]) => gens.filter((g) => parseResponse(g.text).ok).length / gens.length;

test('SmolLM2-135M-Instruct with constrained decoding writes a parseable, schema-valid action on 50 random held-out states', { timeout: 600_000 }, async () => {
  const record = await loadModelRecord('smollm2-135m-instruct');
  assert.ok(record, 'model smollm2-135m-instruct is not imported under MLAGENT_HOME: run `make setup` (scripts/setup.d/55-default-model.sh)');
  const files = await getCheckpoint(new ArtifactStore(), record.checkpoint);
  const { model, tokenizer } = modelFromFiles(files, record.name);
  const template = ChatTemplate.fromCheckpoint(files, record.name);
  assert.ok(template, 'the checkpoint carries its chat template');

  const problems = heldOutProblems();
  const steps = recordedSteps();
  assert.ok(problems.length >= 5, 'held-out tasks in tasks/');
  const rng = seededRandom(2026);
  // a state: a held-out task at a random point of a real episode, its last step shown with the observation cut
  // (as a prompt budget does): the prompts' prefill is most of this test's time on 2 cores
  const prompts = Array.from({ length: 50 }, () => {
    const researchProblem = problems[Math.floor(rng() * problems.length)];
    const history = steps.slice(0, Math.floor(rng() * (steps.length + 1)));
    const messages = promptMessages(promptState({ researchProblem, seedIdeas: [], history }), { steps: 1, observationChars: 200 });
    return template.render(messages, { addGenerationPrompt: true });
  });
  const lengths = prompts.map((p) => tokenizer.encode(p).length);
  console.log(`# prompts: ${Math.min(...lengths)}–${Math.max(...lengths)} tokens`);

  const BATCH = 10;
  // ≤ 24 thought + ~12 header + ≤ 64 input tokens
  const run = (decoding: 'constrained', maxNewTokens: number) => {
    const t0 = Date.now();
    const gens: Generation[] = [];
    for (let i = 0; i < prompts.length; i += BATCH) {
      const t = Date.now();
      gens.push(...generate(model, tokenizer, prompts.slice(i, i + BATCH), {
        maxNewTokens, temperature: 0.7, seed: i, decoding, constraint: { maxThoughtTokens: 24, maxInputTokens: 64 },
      }));
      console.log(`# ${decoding} rows ${i}–${i + BATCH - 1}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    const tokens = gens.reduce((n, g) => n + g.tokens.length, 0);
    console.log(`# ${decoding}: valid ${(100 * validRate(gens)).toFixed(0)}% of ${gens.length}, ${tokens} tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return gens;
  };
  const constrained = run('constrained', 100);
  for (const g of constrained) {
    const parsed = parseResponse(g.text);
    assert.ok(parsed.ok, `${JSON.stringify(g.text)}: ${parsed.ok || parsed.error}`);
    assert.equal(g.stop, 'eos', 'the turn ends with <|im_end|> after the Action Input');
    assert.equal(g.text, tokenizer.decode(g.tokens));
  }
  const names = new Map<string, number>();
  for (const g of constrained) { const p = parseResponse(g.text); if (p.ok) names.set(p.action.name, (names.get(p.action.name) ?? 0) + 1); }
  console.log(`# constrained actions: ${JSON.stringify(Object.fromEntries(names))}; e.g. ${JSON.stringify(constrained[0].text)}`);
  // What free decoding writes on such states is a measurement, not a criterion: `mlagent bench actions --decoding free`.
  model.dispose();
});
