import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { prepareTask } from '../../activities/tasks/prepare';
import { findHiddenContent } from '../../activities/tasks/validate';
import { Sandbox } from '../../activities/sandbox';

test('the hidden-content scan finds answers copied anywhere into the sandbox, and nothing in a clean workspace', { timeout: 5 * 60_000 }, async () => {
  const { publicDir, hiddenDir } = await prepareTask('digits');
  const leaky = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-leaky-'));
  fs.cpSync(publicDir, leaky, { recursive: true });
  fs.copyFileSync(path.join(hiddenDir, 'answers.csv'), path.join(leaky, 'data', 'renamed.bin'));
  for (const [dir, want] of [[leaky, ['/workspace/data/renamed.bin']], [publicDir, []]] as const) {
    const sandbox = await Sandbox.create({ workspaceDir: dir, labels: { 'mlagent.tasks': 'hidden-scan-test' } });
    try {
      assert.deepEqual(await findHiddenContent(sandbox, hiddenDir), want);
    } finally {
      await sandbox.destroy();
    }
  }
  fs.rmSync(leaky, { recursive: true, force: true });
});
