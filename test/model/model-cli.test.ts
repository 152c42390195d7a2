import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ModelRecord } from '../../model/model-registry';
import { REPO } from './fixtures';
import { golden, shippedGguf } from './gguf-fixture';

const mlagent = (home: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'cli/main.ts'), ...args], { env: { ...process.env, MLAGENT_HOME: home }, encoding: 'utf8' });

test('`mlagent model import` stores a named checkpoint with provenance; `model list` shows it; a second import is a no-op', { timeout: 180_000 }, () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-models-'));
  try {
    importListReimport(home);
  } finally {
    // each run stores a 515 MB checkpoint here
    fs.rmSync(home, { recursive: true, force: true });
  }
});

function importListReimport(home: string): void {
  const gguf = shippedGguf();
  const first = mlagent(home, 'model', 'import', gguf, '--name', 'smol');
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /smol: 134,515,008 parameters .*210×Q4_1/);
  const listed = mlagent(home, 'model', 'list', '--json');
  assert.equal(listed.status, 0, listed.stderr);
  const [record] = ModelRecord.array().parse(JSON.parse(listed.stdout));
  assert.equal(record.name, 'smol');
  assert.equal(record.source.sha256, golden().file.sha256);
  assert.equal(record.source.file, gguf);
  assert.ok(fs.existsSync(path.join(home, 'artifacts/objects', record.checkpoint.sha256.slice(0, 2), record.checkpoint.sha256)));
  const again = mlagent(home, 'model', 'import', gguf, '--name', 'smol');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /already imported/);
  const bad = mlagent(home, 'model', 'import', gguf, '--name', '../escape');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /name/);
}
