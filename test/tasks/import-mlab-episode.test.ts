import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import { importMlab } from '../../activities/tasks/import-mlab';
import { validateTask } from '../../activities/tasks/validate';
import type { EpisodeInput, StepRecord } from '../../core/episode-schema';
import { failureMessage } from '../../core/failure-message';
import type { Idea } from '../../core/ideas';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { startTestStack, type TestStack } from '../helpers/stack';

// An MLAgentBench folder with its data files in env/ (no prepare.py) under names of its own: nothing may
// assume the built-in layout (data/train.csv, data/test.csv, tasks/NAME/train.py).
const FIXTURE = path.join(__dirname, 'fixtures', 'mlab-wine-files');
const TASK = 'wine_files';
const saved = { tasks: process.env.MLAGENT_TASKS_DIR, home: process.env.MLAGENT_HOME };
let root: string;
let stack: TestStack;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-mlab-episode-'));
  fs.mkdirSync(path.join(root, 'tasks'));
  process.env.MLAGENT_TASKS_DIR = path.join(root, 'tasks');
  process.env.MLAGENT_HOME = path.join(root, 'home');
  stack = await startTestStack();
});
after(async () => {
  await stack?.stop();
  for (const [k, v] of [['MLAGENT_TASKS_DIR', saved.tasks], ['MLAGENT_HOME', saved.home]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  fs.rmSync(root, { recursive: true, force: true });
});

test('an imported MLAgentBench task validates, gets diverse ideas and runs an episode with them like a built-in task', { timeout: 10 * 60_000 }, async () => {
  const spec = await importMlab({ dir: FIXTURE, name: TASK, split: 'heldout', direction: 'higher' });
  assert.deepEqual(spec.publicFiles, ['train.py', 'wine_train.csv', 'wine_unlabelled.csv']);
  const row = await validateTask(TASK);
  assert.ok(row.ok, row.problems.join('; '));
  assert.equal(row.score, spec.m_init);

  const client = stack.env.client;
  const ideas = (await client.workflow.execute('generateIdeas', {
    taskQueue: ORCHESTRATOR_QUEUE,
    workflowId: `it-mlab-ideas-${Date.now()}`,
    args: [{ task: TASK, k: 2, seed: 1, minCandidates: 20 }],
  })) as { chosen: Idea[] };
  assert.equal(ideas.chosen.length, 2);
  assert.ok(ideas.chosen.every((i) => i.edits?.[0]?.script_name === 'train.py'), 'each idea edits the imported starter');

  const handle = await client.workflow.start('runEpisode', {
    taskQueue: ORCHESTRATOR_QUEUE,
    workflowId: `it-mlab-episode-${Date.now()}`,
    args: [{ task: TASK, agent: { kind: 'scripted' }, seedIdeas: ideas.chosen, seed: 2 } as EpisodeInput],
  });
  const summary = await handle.result().catch((err: unknown) => assert.fail(`episode failed: ${failureMessage(err)}`));
  assert.equal(summary.endReason, 'final_answer');
  const steps = (await new ArtifactStore().get(summary.trajectory)).toString().trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
  assert.ok(steps.every((s) => s.kind !== 'invalid' && s.kind !== 'error'), steps.map((s) => `${s.action?.name}:${s.kind}`).join(', '));
  const runs = steps.filter((s) => s.action?.name === 'Execute Script');
  assert.ok(runs.length >= 3, 'the baseline and both ideas ran');
  assert.ok(runs.every((s) => typeof s.metricAfter === 'number' && s.metricAfter > 0 && s.metricAfter <= 1), 'every run was scored by the task\'s own eval.py');
});
