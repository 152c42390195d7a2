import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { sandboxFactory, testLabels } from './helpers';

const sandboxes = sandboxFactory(testLabels());
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function taskDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-sbx-ws-'));
  fs.writeFileSync(path.join(dir, 'train.py'), 'print("training")\n');
  fs.mkdirSync(path.join(dir, 'data', 'raw'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', 'train.csv'), 'a,b\n1,2\n');
  fs.writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  return dir;
}

describe('Sandbox workspace', () => {
  after(async () => {
    await sandboxes.cleanup();
  });

  test('files from workspaceDir are there, owned by the agent; read, write and list work', async () => {
    const sb = await sandboxes.create({ workspaceDir: taskDir() });
    assert.equal((await sb.readFile('train.py')).toString(), 'print("training")\n');
    const ls = await sb.exec({ cmd: ['sh', '-c', 'stat -c "%u %a %n" run.sh data/train.csv && ./run.sh'], timeoutMs: 10_000 });
    assert.equal(ls.stdout, '1000 755 run.sh\n1000 644 data/train.csv\nrun\n', ls.stderr);
    await sb.writeFile('out/result.json', '{"acc":1}');
    assert.equal((await sb.readFile('out/result.json')).toString(), '{"acc":1}');
    // A directory's size depends on the engine's filesystem, so only files' sizes are checked.
    assert.deepEqual(
      (await sb.listFiles('')).map((e) => [e.path, e.type, e.type === 'file' ? e.size : 0]),
      [['data', 'dir', 0], ['out', 'dir', 0], ['run.sh', 'file', 19], ['train.py', 'file', 18]],
    );
    assert.deepEqual(
      (await sb.listFiles('data')).map((e) => [e.path, e.type]),
      [['data/raw', 'dir'], ['data/train.csv', 'file']],
    );
    await assert.rejects(sb.readFile('missing.py'), /no such file in the workspace: missing.py/);
    await assert.rejects(sb.readFile('data'), /data is a directory/);
    await assert.rejects(sb.listFiles('nope'), /cannot list 'nope'.*No such file/);
  });

  test('snapshot -> restore gives a byte-identical workspace; any change changes the hash', async () => {
    const a = await sandboxes.create({ workspaceDir: taskDir() });
    await a.exec({ cmd: ['python3', '-c', 'open("model.txt","w").write("w=0.5")'], timeoutMs: 30_000 });
    const snapA = await a.snapshot();
    assert.equal(sha(await a.snapshot()), sha(snapA), 'two snapshots of the same workspace differ');

    const b = await sandboxes.create({ workspaceTar: snapA });
    const snapB = await b.snapshot();
    assert.equal(sha(snapB), sha(snapA));
    assert.ok(snapB.equals(snapA));
    assert.equal((await b.readFile('model.txt')).toString(), 'w=0.5');
    assert.equal((await b.exec({ cmd: ['./run.sh'], timeoutMs: 10_000 })).stdout, 'run\n', 'mode bits lost in restore');

    await b.writeFile('model.txt', 'w=0.6');
    assert.notEqual(sha(await b.snapshot()), sha(snapA));
  });

  test('destroy removes the container and its workspace volume, and is idempotent', async () => {
    const sb = await sandboxes.create();
    const docker = dockerClient();
    const info = await docker.getContainer(sb.id).inspect();
    const volume = info.Mounts[0].Name;
    assert.ok(volume, 'workspace volume has a name');
    await sb.destroy();
    await assert.rejects(docker.getContainer(sb.id).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
    await assert.rejects(docker.getVolume(volume!).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
    await sb.destroy();
  });
});
