import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { listTasks } from '../../activities/tasks/registry';
import { validateTasks, type ValidationRow } from '../../activities/tasks/validate';

// Every task for real, as `mlagent tasks validate` does it: prepare (cached), the starter in the Docker sandbox,
// scoring on the host, m_init reproduced, starter within 30 s; and one scan of the sandbox image for every
// task's hidden content (next to the starters), which must find none.
describe('the task suite validates', () => {
  const tasks = listTasks();
  let rows: ValidationRow[] = [];
  before(async () => {
    const t0 = performance.now();
    rows = await validateTasks(tasks.map((t) => t.name));
    console.log(`validated ${rows.length} tasks in ${((performance.now() - t0) / 1000).toFixed(0)} s (one hidden-content scan for all)`);
  }, { timeout: 15 * 60_000 });

  for (const spec of tasks) {
    test(`task ${spec.name} validates`, () => {
      const row = rows.find((r) => r.task === spec.name);
      assert.ok(row, `${spec.name}: no validation row`);
      assert.ok(row.ok, `${spec.name}: ${row.problems.join('; ')}`);
      assert.ok(row.score !== null && Number.isFinite(row.score));
    });
  }
});
