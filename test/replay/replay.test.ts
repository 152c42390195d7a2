import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';

/**
 * Replays every recorded history under test/fixtures/histories against the current workflow code: a change
 * that would break running workflows (non-determinism) fails here. Record anew with scripts/record-histories.sh;
 * the histories of earlier code stay in a subfolder each (e.g. `before-stop15/`), so the `patched` paths that keep
 * older runs replaying are checked too.
 */
const ROOT = path.join(__dirname, '../fixtures/histories');
const EXPECTED = ['runEpisode', 'generateIdeas', 'collectTrajectories', 'sft', 'trainPipeline', 'evaluate', 'ppo'];
const OLDER = fs.readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

for (const dir of ['', ...OLDER]) {
  for (const workflowType of EXPECTED) {
    test(`recorded ${workflowType} history${dir ? ` (${dir})` : ''} replays deterministically`, { timeout: 120_000 }, async () => {
      const file = path.join(ROOT, dir, `${workflowType}.json`);
      assert.ok(fs.existsSync(file), `missing ${file}: record it with scripts/record-histories.sh`);
      const history = historyFromJSON(JSON.parse(fs.readFileSync(file, 'utf8')));
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      assert.equal(started?.workflowType?.name, workflowType);
      const ids = JSON.parse(fs.readFileSync(path.join(ROOT, dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
      await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history, ids[workflowType]);
    });
  }
}
