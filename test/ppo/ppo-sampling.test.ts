import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stratifiedSample } from '../../core/ppo-sampling';

test('states are spread evenly over tasks, however unevenly the pool holds them, and fixed by the seed', { timeout: 5_000 }, () => {
  const groups = [...Array(20).fill('big'), 'small', 'small', 'mid', 'mid', 'mid'];
  const picked = stratifiedSample({ groups, count: 9, seed: 4 });
  const per = (g: string) => picked.filter((i) => groups[i] === g).length;
  assert.deepEqual([per('big'), per('mid'), per('small')], [3, 3, 3]);
  assert.deepEqual(stratifiedSample({ groups, count: 9, seed: 4 }), picked);
  assert.notDeepEqual(stratifiedSample({ groups, count: 9, seed: 5 }), picked);
  // a task's states are all used before any repeats
  const small = stratifiedSample({ groups: ['a', 'a', 'b'], count: 4, seed: 1 }).filter((i) => i < 2);
  assert.deepEqual([...small].sort(), [0, 1]);
  assert.throws(() => stratifiedSample({ groups: [], count: 1, seed: 0 }), /empty pool/);
});
