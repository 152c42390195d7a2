import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkpointRows, Flags } from '../../cli/commands/evaluate';

const A = 'a'.repeat(64), B = 'b'.repeat(64);

test('`evaluate --checkpoint` takes several policies, each optionally named, for one table', { timeout: 10_000 }, () => {
  assert.deepEqual(checkpointRows(A), [{ row: 'policy', sha256: A }]);
  assert.deepEqual(checkpointRows(`sft=${A},ppo=${B}`), [{ row: 'sft', sha256: A }, { row: 'ppo', sha256: B }]);
  assert.deepEqual(checkpointRows(`${A},${B}`).map((r) => r.row), [`policy-${'a'.repeat(12)}`, `policy-${'b'.repeat(12)}`]);
  assert.deepEqual(checkpointRows(undefined), []);
  for (const bad of ['abc', `${A},`, `bad name=${A}`, `${A};${B}`]) {
    const parsed = Flags.safeParse({ checkpoint: bad });
    assert.equal(parsed.success, false, bad);
    assert.match(parsed.error!.issues[0].message, /comma-separated checkpoints/);
  }
});
