import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from '../../activities/sandbox';
import { sandboxFactory, testLabels } from './helpers';

const sandboxes = sandboxFactory(testLabels());

describe('Sandbox exec', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await sandboxes.create();
  });
  after(async () => {
    await sandboxes.cleanup();
  });

  test('runs a command and returns exit code, stdout and stderr', async () => {
    const r = await sb.exec({ cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], timeoutMs: 10_000 });
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.timedOut, false);
    assert.equal(r.oomKilled, false);
    assert.ok(r.seconds > 0 && r.seconds < 10);
  });

  test('passes env and workdir, and sizes thread pools to the CPU limit', async () => {
    await sb.writeFile('sub/x.txt', 'x');
    const r = await sb.exec({ cmd: ['sh', '-c', 'echo "$FOO $(pwd) $OMP_NUM_THREADS $OPENBLAS_NUM_THREADS"'], timeoutMs: 10_000, workdir: 'sub', env: { FOO: 'bar' } });
    assert.equal(r.stdout, 'bar /workspace/sub 1 1\n');
  });

  test('a timeout kills the whole process group, reports timedOut, and the container stays usable', async () => {
    const r = await sb.exec({ cmd: ['sh', '-c', 'sleep 100 & sleep 100'], timeoutMs: 1000 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, 124);
    assert.equal(r.oomKilled, false);
    assert.ok(r.seconds >= 1 && r.seconds < 5, `took ${r.seconds} s`);
    const ps = await sb.exec({ cmd: ['ps', '-eo', 'args='], timeoutMs: 10_000 });
    assert.deepEqual(ps.stdout.split('\n').filter((l) => l.startsWith('sleep 100')), [], `left over:\n${ps.stdout}`);
    const again = await sb.exec({ cmd: ['echo', 'alive'], timeoutMs: 10_000 });
    assert.equal(again.stdout, 'alive\n');
  });

  test('when the exec server itself hangs, everything but init is killed and the next action works', async () => {
    // Stops the server (the parent of this shell), so no answer ever comes back.
    const r = await sb.exec({ cmd: ['sh', '-c', 'kill -STOP $PPID; sleep 100'], timeoutMs: 500 });
    assert.equal(r.timedOut, true);
    assert.match(r.stderr, /every sandbox process was killed/);
    const ps = await sb.exec({ cmd: ['ps', '-eo', 'pid=,args='], timeoutMs: 10_000 });
    assert.ok(!ps.stdout.includes('sleep 100'), `left over:\n${ps.stdout}`);
    assert.match(ps.stdout, /sleep infinity/);
  });

  test('commands run concurrently, and what a command leaves running is killed when it ends', async () => {
    const t = performance.now();
    const rs = await Promise.all([0, 1, 2].map((i) => sb.exec({ cmd: ['sh', '-c', `sleep 1; echo ${i}`], timeoutMs: 10_000 })));
    assert.deepEqual(rs.map((r) => r.stdout), ['0\n', '1\n', '2\n']);
    assert.ok(performance.now() - t < 2500, `three 1 s commands took ${Math.round(performance.now() - t)} ms`);
    const bg = await sb.exec({ cmd: ['sh', '-c', 'sleep 300 >/dev/null 2>&1 & echo started'], timeoutMs: 10_000 });
    assert.equal(bg.stdout, 'started\n');
    const ps = await sb.exec({ cmd: ['ps', '-eo', 'args='], timeoutMs: 10_000 });
    assert.ok(!ps.stdout.includes('sleep 300'), `left over:\n${ps.stdout}`);
  });

  test('a missing program is exit 127 with a message; a missing workdir is an error', async () => {
    const r = await sb.exec({ cmd: ['no-such-program'], timeoutMs: 10_000 });
    assert.equal(r.exitCode, 127);
    assert.match(r.stderr, /cannot run no-such-program/);
    await assert.rejects(sb.exec({ cmd: ['true'], timeoutMs: 10_000, workdir: 'nowhere' }), /working directory \/workspace\/nowhere does not exist/);
  });

  test('an idle sandbox connection does not keep a Node process alive', async () => {
    const script = `const { Sandbox } = require(${JSON.stringify(require.resolve('../../activities/sandbox'))});
      Sandbox.attach(${JSON.stringify(sb.id)}).then((s) => s.exec({ cmd: ['true'], timeoutMs: 10000 })).then((r) => console.log('exit', r.exitCode));`;
    const t = performance.now();
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { timeout: 30_000 }).toString();
    assert.equal(out, 'exit 0\n');
    assert.ok(performance.now() - t < 15_000);
  });

  test('keeps the tail of oversized output and says how much was dropped', async () => {
    const r = await sb.exec({ cmd: ['python3', '-c', 'print("a" * 5000 + "END")'], timeoutMs: 30_000, maxOutputBytes: 100 });
    assert.match(r.stdout, /^\[mlagent: first 4904 bytes of output dropped\]\na+END\n$/);
  });

  test('rejects bad input with a specific message', async () => {
    await assert.rejects(sb.exec({ cmd: [], timeoutMs: 1000 }), /^Error: Sandbox.exec: cmd: cmd must name a program$/);
    await assert.rejects(sb.exec({ cmd: ['true'], timeoutMs: 0 }), /^Error: Sandbox.exec: timeoutMs: timeoutMs must be a positive integer$/);
    await assert.rejects(Sandbox.create({ limits: { memoryBytes: 1000 } }), /^Error: Sandbox.create: limits.memoryBytes: memoryBytes must be at least 16 MiB$/);
    await assert.rejects(sb.readFile('../etc/passwd'), /must be relative and stay inside the workspace/);
  });

  test('attach re-opens the same container by id', async () => {
    await sb.writeFile('attached.txt', 'hello');
    const again = await Sandbox.attach(sb.id);
    assert.equal(again.id, sb.id);
    assert.equal((await again.readFile('attached.txt')).toString(), 'hello');
    await assert.rejects(Sandbox.attach('mlagent-no-such-container'), /does not exist/);
  });

  test('a memory hog is OOM-killed and reported as such', async () => {
    const small = await sandboxes.create({ limits: { memoryBytes: 128 * 1024 * 1024 } });
    const r = await small.exec({ cmd: ['python3', '-c', 'x = b"x" * (512 << 20)'], timeoutMs: 60_000 });
    assert.equal(r.exitCode, 137, r.stderr);
    assert.equal(r.oomKilled, true);
    assert.equal(r.timedOut, false);
    const ok = await small.exec({ cmd: ['python3', '-c', 'print(1)'], timeoutMs: 60_000 });
    assert.equal(ok.stdout, '1\n');
    assert.equal(ok.oomKilled, false);
  });

  test('the image has the Python ML stack', async () => {
    const r = await sb.exec({
      cmd: ['python3', '-c', 'import numpy, pandas, scipy, sklearn, statsmodels, torch, joblib, xgboost, matplotlib; print(torch.tensor([1.0, 2.0]).sum().item())'],
      timeoutMs: 120_000,
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.trim(), '3.0');
  });
});
