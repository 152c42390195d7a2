import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { importMlab } from '../../activities/tasks/import-mlab';
import { prepareTask } from '../../activities/tasks/prepare';
import { loadTask } from '../../activities/tasks/registry';
import { scoreSubmission } from '../../activities/tasks/score';
import { validateTask } from '../../activities/tasks/validate';

const FIXTURE = path.join(__dirname, 'fixtures', 'mlab-wine');
let dir: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-mlab-'));
  process.env.MLAGENT_TASKS_DIR = dir;
});
after(() => {
  delete process.env.MLAGENT_TASKS_DIR;
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an MLAgentBench task converts, prepares, runs in the sandbox and scores with its own eval.py', { timeout: 5 * 60_000 }, async () => {
  const spec = await importMlab({ dir: FIXTURE, name: 'wine', split: 'heldout', direction: 'higher' });
  assert.equal(spec.type, 'mlab');
  assert.deepEqual(spec.publicFiles, ['data/test.csv', 'data/train.csv', 'train.py']);
  assert.ok(spec.m_init > 0.3 && spec.m_init < 1, `m_init ${spec.m_init}`);
  assert.deepEqual(loadTask('wine').m_init, spec.m_init);

  const { publicDir, hiddenDir } = await prepareTask('wine');
  assert.ok(fs.existsSync(path.join(hiddenDir, 'answer.csv')) && !fs.existsSync(path.join(publicDir, 'answer.csv')));
  const answers = fs.readFileSync(path.join(hiddenDir, 'answer.csv'));
  assert.deepEqual(await scoreSubmission({ task: 'wine', submission: answers }), { ok: true, metric: 1 });
  const broken = await scoreSubmission({ task: 'wine', submission: Buffer.from('id,cultivar\n1,0\n') });
  assert.equal(broken.ok, false);

  const row = await validateTask('wine');
  assert.ok(row.ok, row.problems.join('; '));
});

test('a folder that is not an MLAgentBench task is refused, naming what is missing', async () => {
  await assert.rejects(importMlab({ dir: path.join(FIXTURE, 'env'), split: 'train', direction: 'higher' }), /not an MLAgentBench task: missing env, scripts\/research_problem\.txt, scripts\/eval\.py/);
});
