import assert from 'node:assert/strict';
import { test } from 'node:test';
import tar from 'tar-stream';
import { checkRelativePath, normalizeTar, readTar } from '../../activities/sandbox/workspace-tar';

async function rawTar(entries: { name: string; data?: string; mtime: Date; uid: number; type?: 'directory' }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory', mtime: e.mtime, uid: e.uid, mode: 0o755 });
    else pack.entry({ name: e.name, mtime: e.mtime, uid: e.uid, mode: 0o644 }, e.data ?? '');
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

test('normalizeTar ignores entry order, mtimes and owners, and keeps contents', async () => {
  const a = await rawTar([
    { name: 'b.txt', data: 'B', mtime: new Date(1), uid: 0 },
    { name: 'd', type: 'directory', mtime: new Date(5), uid: 0 },
    { name: 'd/a.txt', data: 'A', mtime: new Date(2), uid: 7 },
  ]);
  const b = await rawTar([
    { name: 'd/', type: 'directory', mtime: new Date(9e12), uid: 1000 },
    { name: 'd/a.txt', data: 'A', mtime: new Date(3e12), uid: 1000 },
    { name: 'b.txt', data: 'B', mtime: new Date(4e12), uid: 5 },
  ]);
  const na = await normalizeTar(a);
  assert.ok(na.equals(await normalizeTar(b)));
  assert.ok(na.equals(await normalizeTar(na)), 'normalizing twice changes the bytes');
  const entries = await readTar(na);
  assert.deepEqual(entries.map((e) => [e.name, e.header.uid, e.data.toString()]), [['b.txt', 1000, 'B'], ['d', 1000, ''], ['d/a.txt', 1000, 'A']]);
  const changed = await rawTar([{ name: 'b.txt', data: 'C', mtime: new Date(1), uid: 0 }, { name: 'd/a.txt', data: 'A', mtime: new Date(2), uid: 7 }]);
  assert.ok(!na.equals(await normalizeTar(changed)));
});

test('paths that leave the workspace are rejected', async () => {
  assert.equal(checkRelativePath('a/./b/'), 'a/b');
  assert.equal(checkRelativePath('.'), '');
  assert.throws(() => checkRelativePath('/etc/passwd'), /must be relative/);
  assert.throws(() => checkRelativePath('a/../../x'), /stay inside the workspace/);
  await assert.rejects(normalizeTar(await rawTar([{ name: '../evil', data: 'x', mtime: new Date(0), uid: 0 }])), /stay inside the workspace/);
});
