import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CollectInput } from '../../core/collect-schema';
import { EpisodeInput } from '../../core/episode-schema';
import { GenerateIdeasInput } from '../../core/ideas';
import { PipelineInput } from '../../core/pipeline-schema';
import { PpoInput } from '../../core/ppo-schema';
import { SftInput } from '../../model/sft-params';

/** The example inputs users paste into the Temporal UI must stay valid as the schemas evolve. */
const SCHEMAS: Record<string, { safeParse(v: unknown): { success: boolean; error?: unknown } }> = {
  runEpisode: EpisodeInput,
  generateIdeas: GenerateIdeasInput,
  collectTrajectories: CollectInput,
  trainPipeline: PipelineInput,
  sft: SftInput,
  ppo: PpoInput,
};

test('every temporal-config example input parses with its workflow schema', () => {
  const dir = path.join(__dirname, '../../temporal-config/examples');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  assert.deepEqual(files, Object.keys(SCHEMAS).sort(), 'one example per workflow');
  for (const [workflow, schema] of Object.entries(SCHEMAS)) {
    const file = path.join(dir, `${workflow}.json`);
    const res = schema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    assert.ok(res.success, `${file}: ${String(res.error)}`);
  }
});
