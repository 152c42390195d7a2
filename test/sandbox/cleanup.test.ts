import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanupSandboxes, Sandbox } from '../../activities/sandbox';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { testLabels } from './helpers';

test('cleanupSandboxes removes only labelled sandboxes older than the cutoff', async () => {
  const labels = testLabels();
  const sb = await Sandbox.create({ labels });
  try {
    assert.deepEqual(await cleanupSandboxes({ olderThanMs: 10 * 60_000, labels }), [], 'a fresh sandbox was removed');
    await dockerClient().getContainer(sb.id).inspect();
    await new Promise((r) => setTimeout(r, 1100)); // Docker's Created has one-second resolution
    assert.deepEqual(await cleanupSandboxes({ olderThanMs: 1000, labels }), [sb.id]);
    await assert.rejects(dockerClient().getContainer(sb.id).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
    await assert.rejects(cleanupSandboxes({ olderThanMs: -1 }), /olderThanMs must be >= 0/);
  } finally {
    await sb.destroy();
  }
});
