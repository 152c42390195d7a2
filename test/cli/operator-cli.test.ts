import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import type { CollectInput } from '../../core/collect-schema';
import type { StepRecord } from '../../core/episode-schema';
import type { EvaluateInput } from '../../core/evaluation';
import { failureMessage } from '../../core/failure-message';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import type { AuditRow } from '../../cli/audit';
import type { CollectResult } from '../../workflows/collect';
import { startTestStack, type TestStack } from '../helpers/stack';

process.env.MLAGENT_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-operator-cli-'));
let stack: TestStack;
const ids = { collect: `it-cli-collect-${Date.now()}`, evaluate: `it-cli-evaluate-${Date.now()}` };
let collected: CollectResult;

/** A real collection (one co2 episode of 4 steps) and a real evaluation (one 2-step episode), both finished. */
before(async () => {
  stack = await startTestStack();
  const collect: CollectInput = { tasks: ['co2'], ideasPerTask: 2, episodesPerTask: 1, ideasPerEpisode: { min: 1, max: 1 }, concurrency: 1, seed: 3, limits: { maxSteps: 4 } };
  const evaluate: EvaluateInput = { tasks: ['co2'], agents: [{ name: 'scripted', agent: { kind: 'scripted' } }], k: 1, limits: { maxSteps: 2 } };
  const c = stack.env.client.workflow.start('collectTrajectories', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: ids.collect, args: [collect] });
  const e = stack.env.client.workflow.start('evaluate', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: ids.evaluate, args: [evaluate] });
  collected = (await (await c).result().catch((err: unknown) => assert.fail(`collection failed: ${failureMessage(err)}`))) as CollectResult;
  await (await e).result().catch((err: unknown) => assert.fail(`evaluation failed: ${failureMessage(err)}`));
});
after(async () => {
  await stack?.stop();
  fs.rmSync(process.env.MLAGENT_HOME!, { recursive: true, force: true });
});

function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../cli/main.ts'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, TEMPORAL_ADDRESS: stack.env.address, TEMPORAL_NAMESPACE: stack.namespace },
  });
  assert.equal(r.status, 0, `mlagent ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const jsonl = (out: string) => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRow);

/** Root tag and element counts of an SVG file, parsed as XML by Python's standard library. */
function svgElements(file: string): Record<string, number> {
  const script = 'import collections, json, sys, xml.etree.ElementTree as ET\nroot = ET.parse(sys.argv[1]).getroot()\nprint(json.dumps({"root": root.tag, **collections.Counter(e.tag.split("}")[1] for e in root.iter())}))';
  const r = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`parsing SVG needs python3 (Debian python3): ${r.error.message}`);
  assert.equal(r.status, 0, `${file} is not well-formed XML: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as Record<string, number | string>;
  assert.equal(out.root, '{http://www.w3.org/2000/svg}svg', file);
  return out as Record<string, number>;
}

test('mlagent status: a finished collection with its type, status, UI link and result summary', { timeout: 120_000 }, () => {
  const s = JSON.parse(cli('status', ids.collect, '--json')) as { type: string; status: string; stage: string; ui: string; summary: string[] };
  assert.equal(s.type, 'collectTrajectories');
  assert.equal(s.status, 'COMPLETED');
  assert.equal(s.stage, 'collect');
  assert.ok(s.ui.endsWith(`/workflows/${encodeURIComponent(ids.collect)}`), s.ui);
  assert.match(s.summary[0]!, /^1\/1 episodes ok; \d+ states/);
  const episode = cli('status', collected.episodes[0]!.workflowId);
  assert.match(episode, /runEpisode COMPLETED/);
  assert.match(episode, /co2: (max_steps|final_answer) after \d steps/);
});

test('mlagent audit: every step of the collection, as in its trajectory, filterable, as JSONL and as a table', { timeout: 120_000 }, async () => {
  const rows = jsonl(cli('audit', ids.collect, '--jsonl'));
  const traj = (await new ArtifactStore().get(collected.trajectories)).toString().trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
  assert.equal(rows.length, traj.length);
  assert.equal(rows.length, collected.episodes[0]!.steps);
  rows.forEach((r, i) => {
    assert.equal(r.stage, 'collect');
    assert.equal(r.task, 'co2');
    assert.equal(r.agent, 'scripted');
    assert.equal(r.episode, collected.episodes[0]!.workflowId);
    assert.equal(r.step, traj[i]!.step);
    assert.equal(r.action, traj[i]!.action?.name ?? 'invalid');
    assert.deepEqual(r.actionInput, traj[i]!.action?.input ?? null);
    assert.equal(r.reward, traj[i]!.reward);
    assert.equal(r.metric, traj[i]!.metricAfter);
    assert.ok(r.observation.length <= 240, `excerpt of ${r.observation.length} chars`);
  });
  const first = rows[0]!.action;
  const only = jsonl(cli('audit', ids.collect, '--jsonl', '--action', first.toLowerCase()));
  assert.ok(only.length >= 1 && only.every((r) => r.action === first), JSON.stringify(only.map((r) => r.action)));
  assert.equal(jsonl(cli('audit', ids.collect, '--jsonl', '--stage', 'ppo')).length, 0);
  assert.equal(jsonl(cli('audit', ids.collect, '--jsonl', '--task', 'nmes1988')).length, 0);
  assert.match(cli('audit', ids.collect), new RegExp(`${rows.length} action\\(s\\)\\n$`));

  const evaluated = jsonl(cli('audit', ids.evaluate, '--jsonl', '--stage', 'evaluate'));
  assert.ok(evaluated.length >= 1 && evaluated.length <= 2, `${evaluated.length} evaluation steps`);
  assert.ok(evaluated.every((r) => r.agent === 'scripted' && r.task === 'co2' && r.episode.startsWith(`${ids.evaluate}/scripted/co2/`)));
});

test('mlagent report: the HTML report and each plot as a well-formed SVG file', { timeout: 120_000 }, () => {
  const collect = JSON.parse(cli('report', ids.collect, '--json')) as { html: string; plots: string[]; stages: string[] };
  assert.deepEqual(collect.stages, ['collect']);
  assert.match(fs.readFileSync(collect.html, 'utf8'), /Expert trajectories/);
  assert.deepEqual(collect.plots.map((f) => path.basename(f)), ['collect-gain.svg']);
  assert.ok(svgElements(collect.plots[0]!).rect >= 1, 'a gain bar');

  const evaluation = JSON.parse(cli('report', ids.evaluate, '--json')) as { html: string; plots: string[] };
  assert.deepEqual(evaluation.plots.map((f) => path.basename(f)).sort(), ['evaluation-gain.svg', 'evaluation-table.svg']);
  const table = svgElements(evaluation.plots.find((f) => f.endsWith('evaluation-table.svg'))!);
  assert.ok(table.text >= 2 * 5, `header and a scripted row: ${JSON.stringify(table)}`);
  const page = fs.readFileSync(evaluation.html, 'utf8');
  assert.match(page, /<th>valid actions<\/th><th>actions without error<\/th>/);
  // after K, avg@K, best@K, m_init, Δ_r and valid actions: the rate of actions without error, measured
  assert.match(page, /<td>scripted<\/td><td>co2<\/td>(<td>[^<]*<\/td>){6}<td>\d+\.\d%<\/td>/);
});
