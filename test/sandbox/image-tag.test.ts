import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { sandboxImage, sandboxImageTag } from '../../sandbox-images/image-tag';

test('sandboxImageTag() equals what tag.sh (used by build.sh and setup) prints', () => {
  const fromShell = execFileSync('bash', [path.resolve(__dirname, '../../sandbox-images/tag.sh')]).toString().trim();
  assert.match(fromShell, /^[0-9a-f]{12}$/);
  assert.equal(sandboxImageTag(), fromShell);
  assert.equal(sandboxImage(), `mlagent-sandbox:${fromShell}`);
});
