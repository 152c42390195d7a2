import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import { ppoRows } from '../../cli/audit';
import { writeReportFiles } from '../../cli/report';
import type { RunNode } from '../../cli/run-history';
import type { PpoIterationMetrics } from '../../core/ppo-schema';

process.env.MLAGENT_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-report-stages-'));
test.after(() => fs.rmSync(process.env.MLAGENT_HOME!, { recursive: true, force: true }));

/** Coordinates of the polyline points of each <path> in an SVG (parsed as XML by Python's standard library). */
function svgPaths(file: string): number[] {
  const script = 'import json, sys, xml.etree.ElementTree as ET\nns = "{http://www.w3.org/2000/svg}"\nprint(json.dumps([len(p.get("d").split()) for p in ET.parse(sys.argv[1]).getroot().iter(ns + "path")]))';
  const r = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`parsing SVG needs python3 (Debian python3): ${r.error.message}`);
  assert.equal(r.status, 0, `${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as number[];
}

test('report of SFT and PPO stages: loss curve, mean reward and both KL curves, one point per step or iteration', { timeout: 30_000 }, async () => {
  const store = new ArtifactStore();
  const ref = { sha256: 'a'.repeat(64), size: 1, kind: 'checkpoint' };
  const lossCurve = await store.putJson({ steps: [1, 2, 3, 4].map((step) => ({ step, loss: 3 / step })) }, 'loss-curve');
  const metric = (iteration: number): PpoIterationMetrics => ({
    iteration, meanReward: 0.25 * iteration, kinds: { non_edit: 2 }, leftOut: 0, policy: ref, approxKl: 0.01, refKl: 0.02 * iteration, clipFraction: 0.1,
    policyLoss: 0, valueLoss: 0.1, entropy: 2, gradNormActor: 1, gradNormCritic: 1, steps: 1, tokens: 10,
  });
  const metricsLog = await store.put([0, 1, 2].map((i) => JSON.stringify(metric(i)) + '\n').join(''), 'ppo-metrics');
  const { html, plots } = await writeReportFiles({
    workflowId: 'pipeline-x',
    result: {
      sft: { base: { kind: 'fresh' } as never, checkpoint: ref, lossCurve, steps: 4, finalLoss: 0.75, resumedFromStep: 0 },
      ppo: { policy: ref, iterations: 3, metricsLog, rewardScales: {}, stopped: false },
    },
  });
  assert.deepEqual(plots.map((f) => path.basename(f)), ['sft-loss.svg', 'ppo-reward.svg', 'ppo-kl.svg']);
  assert.deepEqual(svgPaths(plots[0]!), [4]);
  assert.deepEqual(svgPaths(plots[1]!), [3]);
  assert.deepEqual(svgPaths(plots[2]!), [3, 3], 'KL old→new and KL to the reference');
  const page = fs.readFileSync(html, 'utf8');
  assert.match(page, /Step-wise PPO/);
  assert.match(page, /<td>3<\/td><td>0\.500<\/td><td>non_edit 2<\/td>/);
});

const snap = (c: string) => ({ sha256: c.repeat(64), size: 1, kind: 'workspace-snapshot' });
const run = (episodeId: string, over: object) => ({ name: 'runAction', input: { episodeId }, result: { observation: `ran ${episodeId}`, kind: 'non_edit', metricAfter: null, workspaceChanged: false, snapshotAfter: snap('0'), ...over } });
const rollout = (...responses: string[]) => ({ name: 'ppoRollout', input: { actionsPerState: 1 }, result: { responses } });
const LIST = 'Action: List Files\nAction Input: {"dir_path": "."}';
const EDIT = 'Action: Edit Script\nAction Input: {"script_name": "train.py", "edits": [{"old": "a", "new": "b"}]}';

test('PPO audit rows from a history: observation by episode id, kind after scoring, reward from the update input', { timeout: 5_000 }, () => {
  const node: RunNode = {
    workflowId: 'p', type: 'ppo', input: {}, status: 'COMPLETED', children: [],
    activities: [
      { name: 'ppoSampleStates', input: {}, result: [{ task: 'co2' }, { task: 'wa_churn' }] },
      rollout(LIST, 'no action here'),
      run('p/0/0', {}),
      { name: 'ppoUpdate', input: { rewards: [0.5, 0] } },
      { name: 'ppoSampleStates', input: {}, result: [{ task: 'co2' }] },
      rollout(EDIT),
      run('p/1/0', { kind: 'edit', workspaceChanged: true, snapshotAfter: snap('1') }),
      { name: 'evaluateWorkspace', input: { snapshot: snap('1') }, result: { metric: 0.9, resourceLimit: 'time', cached: false, seconds: 1 } },
      { name: 'ppoUpdate', input: { rewards: [0.5] } },
    ],
  };
  const rows = ppoRows(node);
  assert.deepEqual(rows.map((r) => [r.episode, r.step, r.task, r.action, r.kind, r.reward, r.metric]), [
    ['p/0/0', 0, 'co2', 'List Files', 'non_edit', 0.5, null],
    ['p/0/1', 0, 'wa_churn', 'invalid', 'invalid', 0, null],
    ['p/1/0', 1, 'co2', 'Edit Script', 'corner_case', 0.5, 0.9],
  ]);
  assert.equal(rows[0]!.observation, 'ran p/0/0');
  assert.deepEqual(rows[0]!.actionInput, { dir_path: '.' });
  assert.deepEqual(rows.map((r) => [r.stage, r.mode, r.iteration]), [['ppo', 'stepwise', 0], ['ppo', 'stepwise', 0], ['ppo', 'stepwise', 1]]);
});

test('episodic PPO audit rows: labelled episodic, one row per step of each episode, episodes ending at Final Answer or a left-out action', { timeout: 5_000 }, () => {
  // Iteration 0, two episodes: step 0 both act (the second invalidly), step 1 both again (the first gives its Final
  // Answer), step 2 only the second, whose action no sandbox ran (its runAction failed: left out, reward null).
  const node: RunNode = {
    workflowId: 'p', type: 'ppo', input: { mode: 'episodic' }, status: 'COMPLETED', children: [],
    activities: [
      { name: 'ppoSampleStates', input: { initialOnly: true }, result: [{ task: 'co2' }, { task: 'wa_churn' }] },
      rollout(LIST, 'no action here'),
      run('p/0/0', { observation: 'files of p/0/0' }),
      rollout('Action: Final Answer\nAction Input: {"final_answer": "done"}', EDIT),
      run('p/0/0', { observation: 'p/0/0 ended' }),
      run('p/0/1', { kind: 'edit', workspaceChanged: true, snapshotAfter: snap('2') }),
      { name: 'evaluateWorkspace', input: { snapshot: snap('2') }, result: { metric: 0.8, cached: false, seconds: 1 } },
      rollout(LIST),
      { name: 'runAction', input: { episodeId: 'p/0/1' } },
      { name: 'ppoJoinRollouts', input: { parts: [] } },
      { name: 'ppoUpdate', input: { rewards: [0.5, 0, 0.5, 0.7, null] } },
      { name: 'ppoSampleStates', input: { initialOnly: true }, result: [{ task: 'co2' }] },
      rollout('still no action'),
      { name: 'ppoUpdate', input: { rewards: [0] } },
    ],
  };
  const rows = ppoRows(node);
  assert.deepEqual(rows.map((r) => [r.mode, r.iteration, r.episode, r.step, r.task, r.action, r.kind, r.reward, r.metric]), [
    ['episodic', 0, 'p/0/0', 0, 'co2', 'List Files', 'non_edit', 0.5, null],
    ['episodic', 0, 'p/0/1', 0, 'wa_churn', 'invalid', 'invalid', 0, null],
    ['episodic', 0, 'p/0/0', 1, 'co2', 'Final Answer', 'non_edit', 0.5, null],
    ['episodic', 0, 'p/0/1', 1, 'wa_churn', 'Edit Script', 'edit', 0.7, 0.8],
    ['episodic', 0, 'p/0/1', 2, 'wa_churn', 'List Files', null, null, null],
    ['episodic', 1, 'p/1/0', 0, 'co2', 'invalid', 'invalid', 0, null],
  ]);
  assert.deepEqual([rows[0]!.observation, rows[2]!.observation], ['files of p/0/0', 'p/0/0 ended']);
});
