import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { executeAction } from '../../activities/environment/execute-action';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { Sandbox } from '../../activities/sandbox';
import { prepareTask } from '../../activities/tasks/prepare';
import { computeReward } from '../../core/reward';
import { sandboxFactory, testLabels } from './helpers';

const sandboxes = sandboxFactory(testLabels());
const GiB = 1024 ** 3;

/** Writes 64 MiB blocks into DIR until the filesystem refuses; prints bytes written and the errno. */
const FILL = (dir: string) => `
import errno, os, time
t, n, block = time.time(), 0, b"x" * (64 << 20)
try:
    with open(${JSON.stringify(`${dir}/fill.bin`)}, "wb") as f:
        while True:
            n += f.write(block)
            f.flush()
except OSError as e:
    print(n, errno.errorcode[e.errno], round(time.time() - t, 1))
    raise
`;

/** Free bytes on the filesystem holding the engine's data (where an unbounded volume would grow). */
async function engineDiskFree(): Promise<number> {
  const root = (await dockerClient().info()).DockerRootDir as string;
  assert.ok(fs.existsSync(root), `the engine's data root ${root} is not on this host: run this test where dockerd runs`);
  const s = fs.statfsSync(root);
  return s.bavail * s.bsize;
}

describe('Sandbox disk quota: every writable place is a bounded tmpfs', () => {
  after(async () => {
    await sandboxes.cleanup();
  });

  test('every writable mount inside the container is a size-limited tmpfs (or a kernel pseudo filesystem)', { timeout: 120_000 }, async () => {
    const sb = await sandboxes.create();
    const r = await sb.exec({ cmd: ['cat', '/proc/self/mountinfo'], timeoutMs: 10_000 });
    const writable = r.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const [pre, post] = line.split(' - ');
        const f = pre.split(' ');
        const [fstype, , superOpts] = post.split(' ');
        // Per-mount options say whether this mount is writable; the superblock's carry tmpfs's size.
        return { target: f[4], mountOpts: f[5], opts: superOpts, fstype };
      })
      .filter((m) => m.mountOpts.split(',').includes('rw'));
    const pseudo = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue']);
    const candidates = writable.filter((w) => !pseudo.has(w.fstype));
    // A rw mount the agent's user may not write to (root's /sys/fs/cgroup tmpfs on cgroup v1) is no place to fill.
    const check = await sb.exec({ cmd: ['sh', '-c', 'for t in "$@"; do [ -w "$t" ] && echo "$t"; done; true', 'sh', ...candidates.map((m) => m.target)], timeoutMs: 10_000 });
    const agentWritable = new Set(check.stdout.trim().split('\n'));
    for (const m of candidates.filter((w) => agentWritable.has(w.target))) {
      assert.equal(m.fstype, 'tmpfs', `${m.target} is writable ${m.fstype}, not tmpfs`);
      const size = /(?:^|,)size=(\d+)k/.exec(m.opts);
      assert.ok(size, `${m.target} is a tmpfs without a size limit (${m.opts})`);
      assert.ok(Number(size[1]) * 1024 <= GiB, `${m.target} may grow to ${size[1]} KiB`);
    }
    for (const place of ['/workspace', '/tmp', '/home/agent', '/dev/shm']) assert.ok(agentWritable.has(place), `${place} is not among ${[...agentWritable]}`);
  });

  test('filling /workspace gets ENOSPC at the 1 GiB quota in seconds; the host disk is untouched and the next exec works', { timeout: 180_000 }, async () => {
    const sb = await sandboxes.create();
    const freeBefore = await engineDiskFree();
    const r = await sb.exec({ cmd: ['python3', '-c', FILL('/workspace')], timeoutMs: 120_000 });
    const freeAfter = await engineDiskFree();
    const [written, code, secs] = r.stdout.trim().split(' ');
    assert.equal(code, 'ENOSPC', `${r.stdout}\n${r.stderr}`);
    assert.ok(Number(written) <= GiB && Number(written) >= GiB - (64 << 20), `wrote ${written} bytes`);
    assert.ok(Number(secs) < 60, `took ${secs} s to fill`);
    assert.equal(r.diskFull, true);
    assert.equal(r.oomKilled, false, 'the quota must bite before the memory limit');
    // Others use the same disk at the same time; an unbounded workspace would have taken a whole GiB here.
    assert.ok(freeBefore - freeAfter < 256 * 1024 ** 2, `engine disk lost ${(freeBefore - freeAfter) >> 20} MiB`);
    assert.deepEqual(await sb.fullPlaces(), [{ path: '/workspace', sizeBytes: GiB }]);
    const next = await sb.exec({ cmd: ['python3', '-c', 'print(sum(range(10)))'], timeoutMs: 30_000 });
    assert.equal(next.stdout, '45\n', next.stderr);
    await sb.exec({ cmd: ['rm', '/workspace/fill.bin'], timeoutMs: 10_000 });
    assert.deepEqual(await sb.fullPlaces(), []);
  });

  test('/tmp and HOME are bounded too', { timeout: 180_000 }, async () => {
    const sb = await sandboxes.create();
    for (const dir of ['/tmp', '/home/agent']) {
      const r = await sb.exec({ cmd: ['python3', '-c', FILL(dir)], timeoutMs: 120_000 });
      assert.match(r.stdout, /ENOSPC/, `${dir}: ${r.stdout} ${r.stderr}`);
      assert.equal(r.diskFull, true);
      await sb.exec({ cmd: ['rm', `${dir}/fill.bin`], timeoutMs: 10_000 });
    }
  });

  test('the largest task workspaces (fashion_mnist, letter_recognition) fit and snapshot byte-identically', { timeout: 300_000 }, async () => {
    for (const task of ['fashion_mnist', 'letter_recognition']) {
      const { publicDir } = await prepareTask(task);
      const sb = await sandboxes.create({ workspaceDir: publicDir });
      const hostBytes = fs.statSync(path.join(publicDir, 'data', 'train.csv')).size;
      const [entry] = (await sb.listFiles('data')).filter((e) => e.path === 'data/train.csv');
      assert.equal(entry?.size, hostBytes, `${task}: train.csv`);
      const snap = await sb.snapshot();
      const copy = await sandboxes.create({ workspaceTar: snap });
      assert.ok((await copy.snapshot()).equals(snap), `${task}: restore is not byte-identical`);
    }
  });

  test('works through a TCP DOCKER_HOST (no host paths): create, put, exec, snapshot, quota', { timeout: 180_000 }, async () => {
    const socket = '/var/run/docker.sock';
    assert.ok(fs.existsSync(socket), `${socket} missing: this test proxies TCP to the local engine's socket`);
    // A stand-in for a remote engine: only the API reaches it.
    const proxy = net.createServer((c) => {
      const up = net.connect(socket);
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    try {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-dq-'));
      fs.writeFileSync(path.join(dir, 'train.py'), 'print("hi")\n');
      const sb = await sandboxes.create({ workspaceDir: dir });
      assert.equal((await sb.exec({ cmd: ['python3', 'train.py'], timeoutMs: 30_000 })).stdout, 'hi\n');
      await sb.writeFile('out/a.txt', 'a');
      const copy = await sandboxes.create({ workspaceTar: await sb.snapshot() });
      assert.equal((await copy.readFile('out/a.txt')).toString(), 'a');
      const r = await copy.exec({ cmd: ['python3', '-c', FILL('/workspace')], timeoutMs: 120_000 });
      assert.match(r.stdout, /ENOSPC/, r.stderr);
    } finally {
      process.env.DOCKER_HOST = saved;
      if (saved === undefined) delete process.env.DOCKER_HOST;
      proxy.close();
    }
  });

  test('a stopped container is reported gone (its tmpfs workspace is lost), not restarted empty', { timeout: 120_000 }, async () => {
    const sb = await sandboxes.create();
    await dockerClient().getContainer(sb.id).stop({ t: 0 });
    await assert.rejects(Sandbox.attach(sb.id), /does not exist any more: it had stopped/);
    await assert.rejects(dockerClient().getContainer(sb.id).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  test('an edited script that fills the disk is a corner case with reward 0.5 through the agent actions', { timeout: 180_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-dq-'));
    fs.writeFileSync(path.join(dir, 'train.py'), 'print("training")\n');
    const sandbox = await sandboxes.create({ workspaceDir: dir });
    const edit = await executeAction({
      sandbox,
      action: { name: 'Edit Script', input: { script_name: 'train.py', edits: [{ old: 'print("training")\n', new: FILL('/workspace') }] } },
      scriptTimeoutSec: 120,
    });
    assert.equal(edit.kind, 'edit', edit.observation);
    const run = await executeAction({ sandbox, action: { name: 'Execute Script', input: { script_name: 'train.py' } }, scriptTimeoutSec: 120 });
    assert.equal(run.kind, 'corner_case', run.observation);
    assert.match(run.observation, /ran out of disk space \(\/workspace is full at 1024 MiB\)/);
    assert.match(run.observation, /No space left on device/);
    assert.deepEqual(computeReward({ action_kind: run.kind }), { reward: 0.5, kind: 'corner_case' });
    // The agent can still act: list files, and undo its edit.
    const ls = await executeAction({ sandbox, action: { name: 'List Files', input: { dir_path: '.' } }, scriptTimeoutSec: 120 });
    assert.match(ls.observation, /fill\.bin/);
  });
});
