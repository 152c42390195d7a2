import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createSandboxActivities } from '../../activities/sandbox-activities';
import { cleanupSandboxes, HOST_LABEL } from '../../activities/sandbox/cleanup';
import { dockerClient } from '../../activities/sandbox/docker-client';

// An openWorkspace attempt that timed out after creating its container left it running (found in a demo under
// memory pressure: the episode went on in the retry's container); the retry removes it.
test('a retried openWorkspace removes the container an earlier attempt of the same episode left on this host, and nothing else', { timeout: 180_000 }, async () => {
  const hostQueue = `test-open-retry-${process.pid}`;
  const activities = createSandboxActivities({ hostQueue, llm: null });
  const open = (episodeId: string, attempt: number) =>
    new MockActivityEnvironment({ attempt }).run(activities.openWorkspace, { task: 'co2', episodeId }) as Promise<{ containerId: string }>;
  const onHost = async () => (await dockerClient().listContainers({ all: true, filters: { label: [`${HOST_LABEL}=${hostQueue}`] } })).map((c) => c.Id).sort();
  try {
    const abandoned = await open('episode-a', 1);
    const other = await open('episode-b', 1);
    const retried = await open('episode-a', 2);
    assert.deepEqual(await onHost(), [other.containerId, retried.containerId].sort(), 'the first attempt\'s container is gone, the other episode\'s stays');
    assert.ok(!(await onHost()).includes(abandoned.containerId));
  } finally {
    await cleanupSandboxes({ olderThanMs: 0, labels: { [HOST_LABEL]: hostQueue } });
  }
});
