import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../temporal-config/local-server';

const BIN = path.join(__dirname, '../../cli/bin.js');

test('mlagent dev up | status | down manages a real server and the three workers', { timeout: 300_000 }, async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-dev-'));
  const env: NodeJS.ProcessEnv = { ...process.env, MLAGENT_HOME: home, MLAGENT_DEV_PORT: String(await freePort()), MLAGENT_DEV_UI_PORT: String(await freePort()) };
  delete env.TEMPORAL_ADDRESS;
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 240_000 });
  try {
    const before = cli('dev', 'status');
    assert.equal(before.status, 1, before.stdout + before.stderr);
    assert.match(before.stdout, /DOWN\s+temporal/);

    const up = cli('dev', 'up');
    assert.equal(up.status, 0, up.stdout + up.stderr);
    for (const part of ['temporal', 'orchestrator', 'sandbox', 'model']) assert.match(up.stdout, new RegExp(`ok\\s+${part}\\s+pid \\d+`), up.stdout);
    assert.ok(fs.existsSync(path.join(home, 'temporal.sqlite')), 'the dev server keeps its history in SQLite under MLAGENT_HOME');
    assert.ok(fs.existsSync(path.join(home, 'dev', 'orchestrator.log')));

    const status = cli('dev', 'status');
    assert.equal(status.status, 0, status.stdout);
    assert.match(status.stdout, /polling mlagent-model/);
    // cli/bin.js preloads tcmalloc, and the model worker it starts inherits it
    assert.ok(fs.existsSync('/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4'), 'libtcmalloc-minimal4 is missing: run `make setup`');
    assert.match(status.stdout, /model .*tfjs tensorflow on (CPU|GPU), malloc tcmalloc/, status.stdout);

    const down = cli('dev', 'down');
    assert.equal(down.status, 0);
    assert.match(down.stdout, /stopped: model, sandbox, orchestrator, temporal/);
    const after = cli('dev', 'status');
    assert.equal(after.status, 1);
    assert.doesNotMatch(after.stdout, /^ok/m);
  } finally {
    cli('dev', 'down');
  }
});
