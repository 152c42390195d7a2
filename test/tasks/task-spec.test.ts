import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { listTasks, loadTask } from '../../activities/tasks/registry';

const real = path.resolve(__dirname, '../../tasks');
let dir: string;

/** A scratch tasks folder holding a copy of a real task.json, edited per test. */
function writeTask(edit: (t: Record<string, any>) => unknown): string {
  const t = JSON.parse(fs.readFileSync(path.join(real, 'ames', 'task.json'), 'utf8'));
  const out = edit(t) ?? t;
  fs.mkdirSync(path.join(dir, 'ames'), { recursive: true });
  fs.copyFileSync(path.join(real, 'ames', 'export.R'), path.join(dir, 'ames', 'export.R'));
  const file = path.join(dir, 'ames', 'task.json');
  fs.writeFileSync(file, typeof out === 'string' ? out : JSON.stringify(out));
  return file;
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-tasks-'));
  process.env.MLAGENT_TASKS_DIR = dir;
});
after(() => {
  delete process.env.MLAGENT_TASKS_DIR;
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the suite: 21 valid tasks, 9 training and 12 held-out, m_best at least as good as m_init', () => {
  delete process.env.MLAGENT_TASKS_DIR;
  try {
    const tasks = listTasks();
    assert.equal(tasks.length, 21);
    assert.equal(tasks.filter((t) => t.split === 'train').length, 9);
    assert.equal(tasks.filter((t) => t.split === 'heldout').length, 12);
    for (const t of tasks) {
      const gain = t.metric.direction === 'higher' ? t.m_best - t.m_init : t.m_init - t.m_best;
      assert.ok(gain > 0, `${t.name}: the reference (${t.m_best}) must beat the starter (${t.m_init})`);
      assert.ok(t.provenance.kind === 'debian' && t.provenance.fileSha256, `${t.name}: file hashes not recorded`);
    }
  } finally {
    process.env.MLAGENT_TASKS_DIR = dir;
  }
});

test('a malformed task.json fails at load time, naming the file and the field', () => {
  const cases: [(t: Record<string, any>) => unknown, RegExp][] = [
    [(t) => void (t.metric.direction = 'higher'), /metric\.direction: rmsle is lower-is-better/],
    [(t) => void delete t.researchProblem, /researchProblem:/],
    [(t) => void (t.provenance.split = { method: 'random', testFraction: 1.5 }), /provenance\.split\.testFraction/],
    [(t) => void (t.scriptTimeoutSec = -1), /scriptTimeoutSec/],
    [(t) => void (t.publicFiles = ['data/train.csv']), /publicFiles: must include the starter 'train.py'/],
    [(t) => void (t.m_best = t.m_init + 1), /m_best: must be at least as good as m_init/],
    [(t) => void (t.provenance.loader = 'missing.R'), /provenance\.loader: missing\.R does not exist/],
    [() => '{ "name": "ames", ', /JSON/],
  ];
  for (const [edit, want] of cases) {
    const file = writeTask(edit);
    assert.throws(() => loadTask('ames'), (err: Error) => err.message.startsWith(file) && want.test(err.message), `expected ${want}`);
    assert.throws(() => listTasks(), (err: Error) => err.message.startsWith(file));
  }
});

test('an unknown task name lists the known ones', () => {
  writeTask(() => undefined);
  assert.throws(() => loadTask('nope'), /unknown task 'nope' \(known: ames\)/);
});
