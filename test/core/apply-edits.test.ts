import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyEdits } from '../../core/apply-edits';
import { truncateObservation } from '../../core/truncate';

test('edits apply in order and each old text must match exactly once', () => {
  assert.deepEqual(applyEdits('a\nb\nc\n', [{ old: 'b', new: 'B' }, { old: 'B\nc', new: 'X' }]), { ok: true, text: 'a\nX\n' });
  const missing = applyEdits('a', [{ old: 'zzz', new: '' }]);
  assert.equal(missing.ok, false);
  assert.match((missing as { error: string }).error, /edit 1: old text not found/);
  const twice = applyEdits('x x', [{ old: 'x', new: 'y' }]);
  assert.match((twice as { error: string }).error, /more than once/);
});

test('observations keep head and tail within the limit', () => {
  const text = `HEAD${'.'.repeat(10_000)}TAIL`;
  const out = truncateObservation(text, 500);
  assert.ok(out.length <= 500, String(out.length));
  assert.ok(out.startsWith('HEAD') && out.endsWith('TAIL'));
  assert.match(out, /characters truncated/);
  assert.equal(truncateObservation('short', 500), 'short');
});
