import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { prepareTask } from '../../activities/tasks/prepare';
import { scoreSubmission } from '../../activities/tasks/score';

/** submission.csv built from the real hidden answers, so a perfect one scores the metric's ideal value. */
async function answers(task: string): Promise<string[][]> {
  const { hiddenDir } = await prepareTask(task);
  return fs.readFileSync(path.join(hiddenDir, 'answers.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
}

const csv = (rows: (string | number)[][]) => Buffer.from(rows.map((r) => r.join(',')).join('\n') + '\n');

test('perfect and shuffled submissions of real tasks score as expected', async () => {
  const [head, ...rows] = await answers('ames');
  assert.deepEqual(head, ['id', 'Sale_Price']);
  const perfect = await scoreSubmission({ task: 'ames', submission: csv([head, ...rows.reverse()]) });
  assert.deepEqual(perfect, { ok: true, metric: 0 });
  const doubled = await scoreSubmission({ task: 'ames', submission: csv([head, ...rows.map(([id, y]) => [id, 2 * Number(y)])]) });
  assert.ok(doubled.ok && Math.abs(doubled.metric - Math.abs(Math.log1p(2 * 100000) - Math.log1p(100000))) < 0.01);

  const [dhead, ...drows] = await answers('digits');
  const asFloats = await scoreSubmission({ task: 'digits', submission: csv([dhead, ...drows.map(([id, d]) => [id, `${d}.0`])]) });
  assert.deepEqual(asFloats, { ok: true, metric: 1 });
});

test('missing, malformed and mis-shaped submissions are failed executions with a reason', async () => {
  const [head, ...rows] = await answers('ames');
  const cases: [Buffer | null, RegExp][] = [
    [null, /was not written/],
    [Buffer.alloc(0), /is empty/],
    [Buffer.from('id,Sale_Price\n1,"unterminated\n'), /not valid CSV: unterminated/],
    [csv([['id', 'price'], ...rows]), /needs columns 'id' and 'Sale_Price'/],
    [csv([head, ...rows.slice(1)]), /has 585 rows; data\/test.csv has 586/],
    [csv([head, rows[0], ...rows.slice(0, -1)]), /has id \d+ twice/],
    [csv([head, ['999999', '1'], ...rows.slice(1)]), /no row for test id/],
    [csv([head, [rows[0][0], 'abc'], ...rows.slice(1)]), /row 2: 'abc' is not a finite number/],
    [csv([head, [rows[0][0], '-5'], ...rows.slice(1)]), /RMSLE needs predictions >= 0/],
    [csv([head, ['1', '2', '3'], ...rows.slice(1)]), /line 2 has 3 fields/],
  ];
  for (const [submission, want] of cases) {
    const r = await scoreSubmission({ task: 'ames', submission });
    assert.equal(r.ok, false, `expected failure ${want}`);
    assert.match((r as { error: string }).error, want);
  }
  const [dhead, ...drows] = await answers('digits');
  const bad = await scoreSubmission({ task: 'digits', submission: csv([dhead, [drows[0][0], 'ten'], ...drows.slice(1)]) });
  assert.equal(bad.ok, false);
  assert.match((bad as { error: string }).error, /'ten' is not one of the labels \[0, 1, 2/);
});
