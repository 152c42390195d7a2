import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { dockerCall, dockerClient, isNotFound } from './docker-client';
import { closeExecServer, execServerFor } from './exec-server-client';
import {
  AGENT_HOME,
  DEFAULT_LIMITS,
  defaultImage,
  defaultWorkspaceBytes,
  ExecParams,
  parseInput,
  type ExecResult,
  SANDBOX_LABEL,
  SandboxCreateParams,
  type SandboxLimits,
  sandboxEnv,
  WORKSPACE,
} from './sandbox-config';
import { checkRelativePath, normalizeTar, packDirectory, readTar, singleFileTar } from './workspace-tar';

// The public API in one place for callers importing this module directly.
export { DockerUnreachableError } from './docker-client';
export type { ExecResult, SandboxLimits } from './sandbox-config';

const DEFAULT_MAX_OUTPUT = 4 * 1024 * 1024;
// Grace after the exec server should have ended a timed-out command before we kill every agent process ourselves.
const TIMEOUT_GRACE_MS = 10_000;
// The writable places (all tmpfs, see create); one with less free space than this counts as full.
const WRITABLE = [WORKSPACE, '/tmp', AGENT_HOME, '/dev/shm'];
const FULL_BELOW_BYTES = 1024 * 1024;
const FREE_SPACE = `
import json, os, sys
out = {}
for p in sys.argv[1:]:
    st = os.statvfs(p)
    out[p] = [st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize]
print(json.dumps(out))
`;
// What a full filesystem looks like in a script's output: strerror(ENOSPC), its name, Python's OSError text.
const DISK_FULL_OUTPUT = /No space left on device|\bENOSPC\b|\[Errno 28\]/;
const KILL_ALL_BUT_INIT = `
import os
for p in filter(str.isdigit, os.listdir('/proc')):
    if int(p) in (1, os.getpid()):
        continue
    try:
        ppid = int(open('/proc/%s/stat' % p).read().rsplit(')', 1)[1].split()[1])
        if ppid == 1 and open('/proc/%s/cmdline' % p, 'rb').read() == b'sleep\\0infinity\\0':
            continue
        os.kill(int(p), 9)
    except OSError:
        pass
`;

/**
 * One Docker container per episode (or per restored state); each action is a command run in it (through
 * an exec server started with one `docker exec`, see exec-server-client.ts).
 * The container has no network, runs as uid 1000 with no capabilities, a read-only root, and only size-limited
 * tmpfs to write to: /tmp, HOME, /dev/shm, and /workspace. /workspace is an anonymous volume of the local
 * driver with type tmpfs: the engine mounts it, so the archive API (putArchive, getArchive) sees it (it does
 * not see a HostConfig.Tmpfs mount) and no host path is involved, so a remote DOCKER_HOST works. A script
 * filling it gets ENOSPC; the host disk is never written.
 */
export class Sandbox {
  private constructor(
    private readonly docker: Docker,
    private readonly container: Docker.Container,
    readonly id: string,
  ) {}

  static async create(params: SandboxCreateParams = {}): Promise<Sandbox> {
    const p = parseInput(SandboxCreateParams, params, 'Sandbox.create');
    const memoryBytes = p.limits?.memoryBytes ?? DEFAULT_LIMITS.memoryBytes;
    const limits: SandboxLimits = { ...DEFAULT_LIMITS, workspaceBytes: defaultWorkspaceBytes(memoryBytes), ...p.limits };
    if (limits.workspaceBytes >= limits.memoryBytes) {
      throw new Error(`Sandbox.create: limits.workspaceBytes (${limits.workspaceBytes}) must be below memoryBytes (${limits.memoryBytes}): the tmpfs workspace is charged to the container's memory`);
    }
    const image = p.image ?? defaultImage();
    const workspace = p.workspaceDir ? await packDirectory(p.workspaceDir) : p.workspaceTar ? await normalizeTar(p.workspaceTar) : undefined;
    const docker = dockerClient();
    await dockerCall(() => docker.getImage(image).inspect()).catch((err: unknown) => {
      if (isNotFound(err)) throw new Error(`sandbox image ${image} not found: run \`make setup\` (scripts/setup.d/60-sandbox-image.sh builds it with sandbox-images/build.sh)`);
      throw err;
    });
    const container = await dockerCall(() =>
      docker.createContainer({
        Image: image,
        name: p.name ?? `mlagent-sbx-${randomBytes(6).toString('hex')}`,
        Cmd: ['sleep', 'infinity'],
        User: '1000:1000',
        WorkingDir: WORKSPACE,
        Env: sandboxEnv(limits.nanoCpus),
        Labels: { ...p.labels, [SANDBOX_LABEL]: '1' },
        HostConfig: {
          // Anonymous (removed with the container), tmpfs-backed, size-limited: a disk quota without host setup.
          Mounts: [
            {
              Type: 'volume',
              Source: '', // no name: an anonymous volume
              Target: WORKSPACE,
              VolumeOptions: {
                NoCopy: true, // the image's /workspace is empty; ownership and mode come from the options
                Labels: {},
                DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs', o: `size=${limits.workspaceBytes},uid=1000,gid=1000,mode=0755,nosuid,nodev` } },
              },
            },
          ],
          NetworkMode: 'none',
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          ReadonlyRootfs: true,
          Tmpfs: {
            '/tmp': 'rw,nosuid,nodev,size=1g,mode=1777',
            [AGENT_HOME]: 'rw,nosuid,nodev,size=256m,uid=1000,gid=1000,mode=0700',
          },
          Memory: limits.memoryBytes,
          MemorySwap: limits.memoryBytes, // no swap: a hog is OOM-killed instead of thrashing
          NanoCpus: limits.nanoCpus,
          PidsLimit: limits.pidsLimit,
          Init: true, // reaps orphaned processes so zombies do not eat the pids limit
        },
      }),
    );
    const sandbox = new Sandbox(docker, container, container.id);
    try {
      await dockerCall(() => container.start());
      if (workspace) await sandbox.putWorkspaceTar(workspace);
      // Start the exec server now so the first action does not pay for it; errors resurface on first use.
      void execServerFor(docker, container).catch(() => undefined);
    } catch (err) {
      await sandbox.destroy().catch(() => undefined);
      throw err;
    }
    return sandbox;
  }

  /** Re-attaches by container id (each activity is a separate call); starts the container if it stopped. */
  static async attach(id: string): Promise<Sandbox> {
    const docker = dockerClient();
    const info = await dockerCall(() => docker.getContainer(id).inspect()).catch((err: unknown) => {
      if (isNotFound(err)) throw new Error(`sandbox container ${id} does not exist (destroyed or cleaned up)`);
      throw err;
    });
    if (info.Config.Labels?.[SANDBOX_LABEL] !== '1') throw new Error(`container ${id} is not an mlagent sandbox (label ${SANDBOX_LABEL}=1 missing)`);
    const sandbox = new Sandbox(docker, docker.getContainer(info.Id), info.Id); // the full id: exec servers are keyed by it
    if (!info.State.Running) {
      // A stopped container's tmpfs workspace is gone; restarting it would hand out an empty workspace.
      await sandbox.destroy();
      throw new Error(`sandbox container ${id} does not exist any more: it had stopped, which empties its in-memory workspace, and was removed (restore from a snapshot)`);
    }
    return sandbox;
  }

  /**
   * Runs one command (argv, no shell) through the container's exec server. On timeout its process group gets
   * TERM, then KILL 2 s later; timedOut is set, exitCode is 124 and the container survives. Processes a
   * command leaves behind are killed when it ends. Output beyond maxOutputBytes keeps its tail.
   */
  async exec(params: ExecParams): Promise<ExecResult> {
    const p = parseInput(ExecParams, params, 'Sandbox.exec');
    const started = performance.now();
    const r = await this.runCommand({
      cmd: p.cmd,
      cwd: p.workdir === undefined ? WORKSPACE : p.workdir.startsWith('/') ? p.workdir : `${WORKSPACE}/${checkRelativePath(p.workdir)}`,
      env: p.env,
      timeoutMs: p.timeoutMs,
      maxOutputBytes: p.maxOutputBytes ?? DEFAULT_MAX_OUTPUT,
    });
    // No cgroup counter visible inside the container: fall back to Docker's (sticky) flag.
    const oomKilled = r.oomKilled ?? (r.exitCode === 137 && !r.timedOut && (await dockerCall(() => this.container.inspect())).State.OOMKilled);
    // Checked only for failures: a full disk that a command survived is not its outcome, and success needs no extra
    // exec. The free-space check catches writers that hide ENOSPC (torch.save: "file write failed"); if even it
    // cannot run (memory full of tmpfs pages), the output is all there is to go by.
    const diskFull =
      r.exitCode !== 0 &&
      !r.timedOut &&
      (DISK_FULL_OUTPUT.test(r.stderr) || DISK_FULL_OUTPUT.test(r.stdout) || (await this.fullPlaces().catch(() => [])).length > 0);
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut, oomKilled, diskFull, seconds: (performance.now() - started) / 1000 };
  }

  /** The writable places (workspace, /tmp, HOME, /dev/shm) with under 1 MiB free, and their sizes. */
  async fullPlaces(): Promise<{ path: string; sizeBytes: number }[]> {
    const r = await this.runCommand({ cmd: ['python3', '-c', FREE_SPACE, ...WRITABLE], cwd: '/', timeoutMs: 30_000, maxOutputBytes: 64 * 1024 });
    if (r.exitCode !== 0) throw new Error(`fullPlaces: free-space check failed: ${r.stderr.trim()}`);
    const free = JSON.parse(r.stdout) as Record<string, [number, number]>;
    return Object.entries(free)
      .filter(([, [avail]]) => avail < FULL_BELOW_BYTES)
      .map(([p, [, size]]) => ({ path: p, sizeBytes: size }));
  }

  /** Reads a file under /workspace. */
  async readFile(relPath: string): Promise<Buffer> {
    const rel = checkRelativePath(relPath);
    if (rel === '') throw new Error('readFile: the workspace root is a directory, not a file');
    const stream = await dockerCall(() => this.container.getArchive({ path: `${WORKSPACE}/${rel}` })).catch((err: unknown) => {
      if (isNotFound(err)) throw new Error(`no such file in the workspace: ${rel}`);
      throw err;
    });
    const [entry] = await readTar(stream);
    if (!entry) throw new Error(`readFile: empty archive for ${rel}`);
    if (entry.header.type === 'directory') throw new Error(`readFile: ${rel} is a directory, not a file`);
    if (entry.header.type === 'symlink') throw new Error(`readFile: ${rel} is a symlink to ${entry.header.linkname}; read the target instead`);
    return entry.data;
  }

  /** Writes a file under /workspace (parents created), owned by the agent user, mode 0644. */
  async writeFile(relPath: string, data: Buffer | string): Promise<void> {
    const rel = checkRelativePath(relPath);
    if (rel === '') throw new Error('writeFile: a file path is needed, not the workspace root');
    await this.putWorkspaceTar(await singleFileTar(rel, typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
  }

  /** Entries directly inside relDir ('' = workspace root), paths relative to /workspace, sorted. */
  async listFiles(relDir: string): Promise<{ path: string; type: 'file' | 'dir'; size: number }[]> {
    const rel = checkRelativePath(relDir);
    const dir = rel === '' ? WORKSPACE : `${WORKSPACE}/${rel}`;
    const res = await this.runCommand({
      cmd: ['find', dir, '-mindepth', '1', '-maxdepth', '1', '-printf', '%Y\\t%s\\t%P\\0'],
      cwd: WORKSPACE,
      timeoutMs: 60_000,
      maxOutputBytes: 64 * 1024 * 1024,
    });
    if (res.exitCode !== 0) {
      throw new Error(`listFiles: cannot list '${rel || '.'}': ${res.stderr.trim().replace(/^find: /, '') || `find exited ${res.exitCode}`}`);
    }
    return res.stdout
      .split('\0')
      .filter((line) => line !== '')
      .map((line) => {
        const [kind, size, name] = line.split('\t');
        return { path: rel === '' ? name : `${rel}/${name}`, type: kind === 'd' ? ('dir' as const) : ('file' as const), size: Number(size) };
      })
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Deterministic tar of /workspace (sorted, fixed mtime and owner): identical workspaces, identical bytes. */
  async snapshot(): Promise<Buffer> {
    const stream = await dockerCall(() => this.container.getArchive({ path: WORKSPACE }));
    return normalizeTar(stream, 1);
  }

  /** Removes the container and its workspace volume; a second call is a no-op. */
  async destroy(): Promise<void> {
    closeExecServer(this.id);
    await dockerCall(() => this.container.remove({ force: true, v: true })).catch((err: unknown) => {
      // 404: already gone; 409: removal already in progress.
      if (!isNotFound(err) && (err as { statusCode?: number }).statusCode !== 409) throw err;
    });
  }

  private async putWorkspaceTar(tarBytes: Buffer): Promise<void> {
    await dockerCall(() => this.container.putArchive(tarBytes, { path: WORKSPACE }));
  }

  /** Runs a command via the exec server; if even the server's timeout handling fails, kills every agent process. */
  private async runCommand(p: { cmd: string[]; cwd: string; env?: Record<string, string>; timeoutMs: number; maxOutputBytes: number }) {
    const server = await execServerFor(this.docker, this.container);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), p.timeoutMs + TIMEOUT_GRACE_MS)));
    const result = await Promise.race([server.run(p), deadline]).finally(() => clearTimeout(timer));
    if (result !== 'deadline') return result;
    server.close();
    await this.killAllAgentProcesses();
    return { exitCode: 124, stdout: '', stderr: `[mlagent: no answer ${TIMEOUT_GRACE_MS} ms after the timeout; every sandbox process was killed]`, timedOut: true, oomKilled: false };
  }

  /** Kills every process but init and the container's `sleep infinity` (killing that would stop the container). */
  private async killAllAgentProcesses(): Promise<void> {
    const exec = await dockerCall(() => this.container.exec({ Cmd: ['python3', '-c', KILL_ALL_BUT_INIT], AttachStdout: true, AttachStderr: true }));
    const stream = await dockerCall(() => exec.start({ hijack: true, stdin: false }));
    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
      stream.resume();
    });
  }
}
