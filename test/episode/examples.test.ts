import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { EpisodeInput } from '../../core/episode-schema';

/** The example inputs users paste into the Temporal UI must stay valid as the schemas evolve. */
const SCHEMAS: Record<string, { safeParse(v: unknown): { success: boolean; error?: unknown } }> = {
  runEpisode: EpisodeInput,
};

test('every temporal-config example input parses with its workflow schema', () => {
  const dir = path.join(__dirname, '../../temporal-config/examples');
  for (const [workflow, schema] of Object.entries(SCHEMAS)) {
    const file = path.join(dir, `${workflow}.json`);
    const res = schema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    assert.ok(res.success, `${file}: ${String(res.error)}`);
  }
});
