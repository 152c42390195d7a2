import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_SEARCH_ATTRIBUTES, MLAGENT_BEST_SCORE, MLAGENT_PPO_ITERATION } from '../../core/search-attributes';
import { ensureSearchAttributes } from '../../temporal-config/dev-server';
import { startLocalTemporal } from '../../temporal-config/local-server';

// A dev server kept from an older version lacks the newer keys (start-dev registers them only on a new database).
test('ensureSearchAttributes registers the keys a namespace lacks, once', { timeout: 300_000 }, async () => {
  const env = await startLocalTemporal();
  try {
    const { connection, namespace } = env;
    const ns = namespace ?? 'default';
    await connection.operatorService.removeSearchAttributes({ namespace: ns, searchAttributes: [MLAGENT_BEST_SCORE.name, MLAGENT_PPO_ITERATION.name] });
    const listed = async () => Object.keys((await connection.operatorService.listSearchAttributes({ namespace: ns })).customAttributes ?? {});
    assert.ok(!(await listed()).includes(MLAGENT_BEST_SCORE.name), 'the key was removed for the test');
    assert.deepEqual((await ensureSearchAttributes(connection, ns)).sort(), [MLAGENT_BEST_SCORE.name, MLAGENT_PPO_ITERATION.name].sort());
    const after = await listed();
    for (const k of ALL_SEARCH_ATTRIBUTES) assert.ok(after.includes(k.name), `${k.name} registered`);
    assert.deepEqual(await ensureSearchAttributes(connection, ns), [], 'nothing left to add');
  } finally {
    await env.teardown();
  }
});
