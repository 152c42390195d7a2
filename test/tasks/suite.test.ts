import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listTasks } from '../../activities/tasks/registry';
import { validateTask } from '../../activities/tasks/validate';

// Every task for real: prepare (cached), the starter in the Docker sandbox, scoring on the host,
// m_init reproduced, no hidden content reachable from the sandbox, starter within 30 s.
for (const spec of listTasks()) {
  test(`task ${spec.name} validates`, { timeout: 10 * 60_000 }, async () => {
    const row = await validateTask(spec.name);
    assert.ok(row.ok, `${spec.name}: ${row.problems.join('; ')}`);
    assert.ok(row.score !== null && Number.isFinite(row.score));
  });
}
