import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from '../../activities/sandbox';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { sandboxFactory, testLabels } from './helpers';

const sandboxes = sandboxFactory(testLabels());

describe('Sandbox security settings are in effect inside the container', () => {
  let sb: Sandbox;
  const sh = async (script: string) => sb.exec({ cmd: ['sh', '-c', script], timeoutMs: 10_000 });
  before(async () => {
    sb = await sandboxes.create();
  });
  after(async () => {
    await sandboxes.cleanup();
  });

  test('runs as uid 1000', async () => {
    assert.equal((await sh('id -u; id -g')).stdout, '1000\n1000\n');
  });

  test('the root filesystem is read-only; /workspace, /tmp and HOME are writable', async () => {
    const root = await sh('touch /x');
    assert.notEqual(root.exitCode, 0);
    assert.match(root.stderr, /Read-only file system/);
    assert.equal((await sh('touch /usr/x')).exitCode === 0, false);
    const ok = await sh('touch /workspace/w /tmp/t "$HOME/h" && echo ok');
    assert.equal(ok.stdout, 'ok\n', ok.stderr);
  });

  test('has no network interface but lo', async () => {
    assert.equal((await sh('ls /sys/class/net')).stdout, 'lo\n');
  });

  test('has no effective capabilities and no_new_privs set', async () => {
    const status = (await sh('cat /proc/self/status')).stdout;
    assert.match(status, /^CapEff:\s+0000000000000000$/m);
    assert.match(status, /^NoNewPrivs:\s+1$/m);
  });

  test('memory, CPU and pids limits and the mlagent label are set on the container', async () => {
    const info = await dockerClient().getContainer(sb.id).inspect();
    assert.equal(info.HostConfig.Memory, 2 * 1024 ** 3);
    assert.equal(info.HostConfig.NanoCpus, 1e9);
    assert.equal(info.HostConfig.PidsLimit, 256);
    assert.equal(info.HostConfig.NetworkMode, 'none');
    assert.equal(info.Config.Labels.mlagent, '1');
    assert.deepEqual(info.Mounts.map((m) => [m.Type, m.Destination]), [['volume', '/workspace']]);
  });

  test('the pids limit stops a fork bomb-like burst', async () => {
    const r = await sb.exec({ cmd: ['sh', '-c', 'for i in $(seq 400); do sleep 5 & done; wait'], timeoutMs: 20_000 });
    assert.match(r.stderr, /fork|Resource temporarily unavailable|Cannot fork/i);
  });
});
