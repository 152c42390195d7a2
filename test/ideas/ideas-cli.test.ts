import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-ideas-cli-'));
const { MLAGENT_LLM_BASE_URL: _offline, ...env } = process.env;

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../cli/main.ts'), 'ideas', ...args], {
    encoding: 'utf8',
    env: { ...env, MLAGENT_HOME: home },
  });

test('mlagent ideas --json: the k chosen ideas with their edits, offline', () => {
  const out = cli('--task', 'letter_recognition', '--k', '3', '--seed', '2', '--json');
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout) as { source: string; candidateCount: number; chosen: { id: string; edits: unknown[] }[]; ideaSet: { sha256: string } };
  assert.equal(r.source, 'bank');
  assert.ok(r.candidateCount >= 100);
  assert.equal(r.chosen.length, 3);
  assert.ok(r.chosen.every((i) => i.edits.length === 1));
  assert.ok(fs.existsSync(path.join(home, 'artifacts', 'objects', r.ideaSet.sha256.slice(0, 2), r.ideaSet.sha256)), 'the idea set is stored');
});

test('mlagent ideas: the human-readable listing says the run is offline', () => {
  const out = cli('--task', 'wa_churn');
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /offline: no LLM configured/);
  assert.equal(out.stdout.match(/^\s*\d+\. \[/gm)?.length, 10);
});

test('mlagent ideas: bad flags and unknown tasks are clear errors', () => {
  const noValue = cli('--task');
  assert.equal(noValue.status, 2);
  assert.match(noValue.stderr, /--task needs a value/);
  const badK = cli('--task', 'wa_churn', '--k', '0');
  assert.equal(badK.status, 2);
  assert.match(badK.stderr, /k/);
  const unknownFlag = cli('--task', 'wa_churn', '--top', '3');
  assert.equal(unknownFlag.status, 2);
  assert.match(unknownFlag.stderr, /top/);
  const unknownTask = cli('--task', 'no_such_task');
  assert.equal(unknownTask.status, 1);
  assert.match(unknownTask.stderr, /unknown task 'no_such_task'/);
});

test.after(() => fs.rmSync(home, { recursive: true, force: true }));
