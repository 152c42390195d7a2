import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cleanupSandboxes, DockerUnreachableError, Sandbox } from '../../activities/sandbox';

test('a Docker engine that does not answer gives DockerUnreachableError naming the endpoint', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-nodocker-'));
  const sock = path.join(dir, 'docker.sock');
  // A socket that was listened on and closed: nothing answers there any more.
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(sock, r));
  await new Promise<void>((r) => server.close(() => r()));
  const saved = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = `unix://${sock}`;
  try {
    for (const attempt of [() => Sandbox.create({ image: 'mlagent-sandbox:any' }), () => Sandbox.attach('abc'), () => cleanupSandboxes({ olderThanMs: 0 })]) {
      await assert.rejects(attempt(), (err: unknown) => {
        assert.ok(err instanceof DockerUnreachableError, `got ${String(err)}`);
        assert.match(err.message, new RegExp(`^Docker engine unreachable at unix://${sock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
        return true;
      });
    }
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
  }
});
