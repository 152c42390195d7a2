import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { executeAction, type ActionOutcome } from '../../activities/environment/execute-action';
import { prepareTask } from '../../activities/tasks/prepare';
import { computeReward } from '../../core/reward';
import { sandboxFactory, testLabels } from './helpers';

/**
 * Escapes tried the way an agent would: an `Edit Script` that turns train.py into the attack, then
 * `Execute Script`. Each must be contained, come back as feedback with the reward module's reward, and
 * leave the sandbox answering. Only addresses inside the container are ever targeted.
 */
const labels = testLabels();
const sandboxes = sandboxFactory(labels);
after(() => sandboxes.cleanup());

async function attack(script: string, scriptTimeoutSec = 20): Promise<{ run: ActionOutcome; reward: number; healthy: boolean }> {
  const { publicDir } = await prepareTask('co2');
  const sandbox = await sandboxes.create({ workspaceDir: publicDir });
  try {
    const original = (await sandbox.readFile('train.py')).toString('utf8');
    const edit = await executeAction({ sandbox, scriptTimeoutSec, action: { name: 'Edit Script', input: { script_name: 'train.py', edits: [{ old: original, new: script }] } } });
    assert.equal(edit.kind, 'edit', edit.observation);
    const run = await executeAction({ sandbox, scriptTimeoutSec, action: { name: 'Execute Script', input: { script_name: 'train.py' } } });
    const reward = computeReward({ action_kind: run.kind }).reward;
    const after = await executeAction({ sandbox, scriptTimeoutSec, action: { name: 'List Files', input: { dir_path: '.' } } });
    return { run, reward, healthy: after.kind === 'non_edit' && after.observation.includes('train.py') };
  } finally {
    await sandbox.destroy();
  }
}

/** The JSON a probe script prints as its last line. */
const probeOf = (run: ActionOutcome) => JSON.parse(run.observation.trim().split('\n').filter((l) => l.startsWith('{')).at(-1) ?? 'null') as Record<string, unknown>;

describe('sandbox containment through the agent\'s own actions', () => {
  test('network: no DNS, nothing listening on the Temporal port, no raw sockets, only loopback', { timeout: 120_000 }, async () => {
    const { run, reward, healthy } = await attack(`
import json, os, socket
out = {'ifaces': sorted(os.listdir('/sys/class/net'))}
try:
    socket.getaddrinfo('pypi.org', 443); out['dns'] = 'resolved'
except OSError as e:
    out['dns'] = type(e).__name__
try:
    socket.create_connection(('127.0.0.1', 7233), timeout=3); out['temporal'] = 'connected'
except OSError as e:
    out['temporal'] = type(e).__name__
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); out['raw'] = 'opened'
except OSError as e:
    out['raw'] = type(e).__name__
print(json.dumps(out))
`);
    assert.equal(run.kind, 'non_edit', run.observation);
    assert.equal(reward, 0.5);
    assert.deepEqual(probeOf(run), { ifaces: ['lo'], dns: 'gaierror', temporal: 'ConnectionRefusedError', raw: 'PermissionError' });
    assert.ok(healthy);
  });

  test('fork bomb: the pids limit holds, the run is stopped at its time limit (corner case) and the sandbox recovers', { timeout: 180_000 }, async () => {
    const { run, reward, healthy } = await attack(`
import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
`, 8);
    assert.equal(run.kind, 'corner_case', run.observation);
    assert.equal(reward, 0.5);
    assert.match(run.observation, /time limit/);
    assert.ok(healthy, 'the sandbox answers after the bomb');
  });

  test('memory bomb: the container\'s memory limit OOM-kills it, reported as a corner case', { timeout: 180_000 }, async () => {
    const { run, reward, healthy } = await attack(`
blocks = []
while True:
    blocks.append(bytearray(64 * 1024 * 1024))
`);
    assert.equal(run.kind, 'corner_case', run.observation);
    assert.equal(reward, 0.5);
    assert.match(run.observation, /out of memory/);
    assert.ok(healthy);
  });

  test('CPU spin past the timeout is killed and reported as a corner case', { timeout: 120_000 }, async () => {
    const { run, reward, healthy } = await attack('while True:\n    pass\n', 3);
    assert.equal(run.kind, 'corner_case', run.observation);
    assert.equal(reward, 0.5);
    assert.ok(healthy);
  });

  test('writing outside the workspace fails (read-only root), reported as a failed run with reward 0', { timeout: 120_000 }, async () => {
    const { run, reward, healthy } = await attack(`
for path in ['/etc/passwd', '/usr/lib/python3/dist-packages/sitecustomize.py', '/x']:
    try:
        open(path, 'a').write('pwned')
        print('WROTE', path)
    except OSError as e:
        print('refused', path, type(e).__name__)
raise SystemExit(1)
`);
    assert.equal(run.kind, 'error', run.observation);
    assert.equal(reward, 0);
    assert.doesNotMatch(run.observation, /WROTE/);
    assert.equal(run.observation.match(/refused/g)?.length, 3, run.observation);
    assert.ok(healthy);
  });

  test('no Docker socket and setuid binaries stay inert: no capabilities, no_new_privs, su gets no root', { timeout: 120_000 }, async () => {
    const { run, healthy } = await attack(`
import json, os, subprocess
status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)
su = subprocess.run(['su', '-c', 'id -u', 'root'], input='', capture_output=True, text=True, timeout=20)
mount = subprocess.run(['mount', '-t', 'tmpfs', 'none', '/mnt'], capture_output=True, text=True, timeout=20)
print(json.dumps({
    'sockets': [p for p in ['/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock'] if os.path.exists(p)],
    'uid': os.getuid(), 'euid': os.geteuid(),
    'capEff': status['CapEff'].strip(), 'noNewPrivs': status['NoNewPrivs'].strip(),
    'suRoot': su.returncode == 0 and su.stdout.strip() == '0', 'mounted': mount.returncode == 0,
}))
`);
    assert.equal(run.kind, 'non_edit', run.observation);
    assert.deepEqual(probeOf(run), { sockets: [], uid: 1000, euid: 1000, capEff: '0000000000000000', noNewPrivs: '1', suRoot: false, mounted: false });
    assert.ok(healthy);
  });

  test('afterwards no container of these tests and no process of the sandbox user is left', { timeout: 60_000 }, async () => {
    await sandboxes.cleanup();
    const left = await dockerClient().listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
    assert.equal(left.length, 0);
    // Host view of every process of uid 1000 (the sandbox user), except those inside a container that still exists
    // (another stack's live sandbox on this host): one of these tests' removed containers leaves none behind.
    const live = new Set((await dockerClient().listContainers({ all: true })).map((c) => c.Id));
    const ps = spawnSync('ps', ['-u', '1000', '-o', 'pid=,args='], { encoding: 'utf8' }).stdout.split('\n').filter((line) => {
      const pid = line.trim().split(/\s+/)[0];
      const cgroup = pid ? spawnSync('cat', [`/proc/${pid}/cgroup`], { encoding: 'utf8' }).stdout : '';
      const id = /docker[/-]([0-9a-f]{64})/.exec(cgroup)?.[1];
      return line.trim() !== '' && !(id && live.has(id));
    }).join('\n');
    assert.doesNotMatch(ps, /train\.py|os\.fork/, ps);
  });
});
