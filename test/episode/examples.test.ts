import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CollectInput } from '../../core/collect-schema';
import { EpisodeInput } from '../../core/episode-schema';
import { GenerateIdeasInput } from '../../core/ideas';
import { PipelineInput } from '../../core/pipeline-schema';
import { PpoInput } from '../../core/ppo-schema';
import { SftInput } from '../../model/sft-params';
import { pipelineInputFromFlags } from '../../cli/commands/train';
import { loadPipelineConfig, presetFile, PRESETS } from '../../cli/pipeline-config';

/** The example inputs users paste into the Temporal UI must stay valid as the schemas evolve. */
const SCHEMAS: Record<string, { safeParse(v: unknown): { success: boolean; error?: unknown } }> = {
  runEpisode: EpisodeInput,
  generateIdeas: GenerateIdeasInput,
  collectTrajectories: CollectInput,
  // The named configs of `mlagent train --preset`: one file each, every one a whole trainPipeline input.
  smoke: PipelineInput,
  demo: PipelineInput,
  paper: PipelineInput,
  sft: SftInput,
  ppo: PpoInput,
};

test('every temporal-config example input parses with its workflow schema', () => {
  const dir = path.join(__dirname, '../../temporal-config/examples');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  assert.deepEqual(files, Object.keys(SCHEMAS).sort(), 'one example per workflow, and the trainPipeline presets');
  for (const [workflow, schema] of Object.entries(SCHEMAS)) {
    const file = path.join(dir, `${workflow}.json`);
    const res = schema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    assert.ok(res.success, `${file}: ${String(res.error)}`);
  }
});

test('the presets are what the brief names: paper has the paper\'s scale and PPO hyper-parameters, smoke is tiny', () => {
  const paper = PipelineInput.parse(loadPipelineConfig(presetFile('paper')));
  assert.equal(paper.collect?.minCandidates, 100);
  assert.equal(paper.collect?.ideasPerTask, 10);
  assert.deepEqual([paper.collect?.limits.maxSteps, paper.collect?.limits.maxMinutes], [15, 30]);
  assert.equal(paper.evaluate?.k, 8);
  assert.deepEqual([paper.ppo?.lrActor, paper.ppo?.lrCritic, paper.ppo?.klCoef, paper.ppo?.clipEps], [1e-6, 1e-5, 0.001, 0.2]);
  const smoke = PipelineInput.parse(loadPipelineConfig(presetFile('smoke')));
  assert.equal(smoke.collect?.tasks.length, 2);
  assert.ok(smoke.sft.modelConfig, 'smoke trains a tiny fresh model, not the 135M default');
  for (const p of PRESETS) assert.ok(fs.existsSync(presetFile(p)));
});

test('train --config loads YAML; an unknown key is rejected naming it; flags override the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-config-'));
  const good = path.join(dir, 'mine.yaml');
  fs.writeFileSync(good, 'collect:\n  tasks: [co2]\n  episodesPerTask: 2\nppo:\n  iterations: 3\n');
  const { input, name } = pipelineInputFromFlags({ config: good, tasks: 'randhie,co2', 'ppo-iterations': 0, 'no-evaluate': false });
  assert.equal(name, 'mine');
  assert.deepEqual(input.collect, { tasks: ['randhie', 'co2'], episodesPerTask: 2 });
  assert.equal(input.ppo, undefined, '--ppo-iterations 0 drops the stage');
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'collect:\n  tasks: [co2]\n  episodesPerTsk: 2\n');
  assert.throws(() => loadPipelineConfig(bad), /bad\.yaml: collect: .*episodesPerTsk/);
  const demo = pipelineInputFromFlags({ preset: 'demo', 'ppo-iterations': 5, 'no-evaluate': true }).input;
  assert.equal(demo.ppo?.iterations, 5);
  assert.equal(demo.ppo?.statesPerIteration, 2, 'the preset\'s other PPO fields stay');
  assert.equal(demo.evaluate, undefined);
});

test('every workflow input rejects an unknown key (a typo) naming it, at any depth', () => {
  const rejects = (schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, input: unknown, key: string) => {
    const r = schema.safeParse(input);
    assert.equal(r.success, false, `accepted ${JSON.stringify(input)}`);
    assert.match(JSON.stringify(r.error), new RegExp(key));
  };
  rejects(EpisodeInput, { task: 'co2', maxSteps: 3 }, 'maxSteps');
  rejects(EpisodeInput, { task: 'co2', limits: { maxStep: 3 } }, 'maxStep');
  rejects(EpisodeInput, { task: 'co2', agent: { kind: 'scripted', temperature: 0 } }, 'temperature');
  rejects(SftInput, { dataset: { sha256: '0'.repeat(64), size: 1, kind: 'sft-dataset' }, epoch: 2 }, 'epoch');
  rejects(PpoInput, { statesPool: { sha256: '0'.repeat(64), size: 1, kind: 'states-pool' }, checkpoint: { sha256: '0'.repeat(64), size: 1, kind: 'checkpoint' }, iteratons: 3 }, 'iteratons');
});
