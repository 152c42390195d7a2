import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { dockerCall, dockerClient, isNotFound } from './docker-client';
import {
  AGENT_HOME,
  DEFAULT_LIMITS,
  defaultImage,
  ExecParams,
  type ExecResult,
  SANDBOX_LABEL,
  SandboxCreateParams,
  type SandboxLimits,
  threadEnv,
  WORKSPACE,
} from './sandbox-config';
import { TailBuffer } from './tail-buffer';
import { checkRelativePath, normalizeTar, packDirectory, readTar, singleFileTar } from './workspace-tar';

const DEFAULT_MAX_OUTPUT = 4 * 1024 * 1024;
// Grace after the in-container `timeout` should have fired before we kill every agent process ourselves.
const TIMEOUT_GRACE_MS = 10_000;
// Remembers the container's OOM-kill count across execs (and across attach, as it lives in the container).
const OOM_SEEN_FILE = '/tmp/.mlagent-oom-seen';
const OOM_PROBE = [
  'n=$(cat /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null | sed -n "s/^oom_kill //p" | head -n1)',
  `s=$(cat ${OOM_SEEN_FILE} 2>/dev/null || echo 0)`,
  `[ -n "$n" ] && echo "$n" > ${OOM_SEEN_FILE}`,
  'echo "${n:-unknown} $s"',
].join('; ');

/**
 * One Docker container per episode (or per restored state); each action is an `exec` in it.
 * The container has no network, runs as uid 1000 with no capabilities, a read-only root, tmpfs /tmp and
 * HOME, and a writable /workspace that is an anonymous volume filled through the archive API (no host
 * bind mounts, so a remote DOCKER_HOST works).
 */
export class Sandbox {
  private constructor(
    private readonly docker: Docker,
    private readonly container: Docker.Container,
    readonly id: string,
  ) {}

  static async create(params: SandboxCreateParams = {}): Promise<Sandbox> {
    const p = SandboxCreateParams.parse(params);
    const limits: SandboxLimits = { ...DEFAULT_LIMITS, ...p.limits };
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
        Env: [`HOME=${AGENT_HOME}`, ...threadEnv(limits.nanoCpus)],
        Labels: { ...p.labels, [SANDBOX_LABEL]: '1' },
        // Anonymous volume: the only writable place besides the tmpfs mounts; removed with the container.
        Volumes: { [WORKSPACE]: {} },
        HostConfig: {
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
          Init: true, // reaps orphans of timed-out scripts so they do not eat the pids limit
        },
      }),
    );
    const sandbox = new Sandbox(docker, container, container.id);
    try {
      await dockerCall(() => container.start());
      if (workspace) await sandbox.putWorkspaceTar(workspace);
    } catch (err) {
      await sandbox.destroy().catch(() => undefined);
      throw err;
    }
    return sandbox;
  }

  /** Re-attaches by container id (each activity is a separate call); starts the container if it stopped. */
  static async attach(id: string): Promise<Sandbox> {
    const docker = dockerClient();
    const container = docker.getContainer(id);
    const info = await dockerCall(() => container.inspect()).catch((err: unknown) => {
      if (isNotFound(err)) throw new Error(`sandbox container ${id} does not exist (destroyed or cleaned up)`);
      throw err;
    });
    if (info.Config.Labels?.[SANDBOX_LABEL] !== '1') throw new Error(`container ${id} is not an mlagent sandbox (label ${SANDBOX_LABEL}=1 missing)`);
    if (!info.State.Running) await dockerCall(() => container.start());
    return new Sandbox(docker, container, info.Id);
  }

  /**
   * Runs one command. `timeout` (coreutils, inside the container) signals the whole process group when
   * timeoutMs passes; the container survives. Output beyond maxOutputBytes keeps its tail.
   */
  async exec(params: ExecParams): Promise<ExecResult> {
    const p = ExecParams.parse(params);
    const started = performance.now();
    const secs = (p.timeoutMs / 1000).toFixed(3);
    const raw = await this.run({
      cmd: ['timeout', '--kill-after=2', secs, ...p.cmd],
      workdir: p.workdir === undefined ? WORKSPACE : p.workdir.startsWith('/') ? p.workdir : `${WORKSPACE}/${checkRelativePath(p.workdir)}`,
      env: p.env,
      maxOutputBytes: p.maxOutputBytes ?? DEFAULT_MAX_OUTPUT,
      hardDeadlineMs: p.timeoutMs + TIMEOUT_GRACE_MS,
    });
    const elapsedMs = performance.now() - started;
    // 124: timeout's TERM ended it; 137 after the deadline: the KILL escalation (which also hits `timeout`).
    const timedOut = raw.killedByUs || raw.exitCode === 124 || (raw.exitCode === 137 && elapsedMs >= p.timeoutMs);
    const oomKilled = !timedOut && raw.exitCode === 137 && (await this.sawNewOomKill());
    return { exitCode: raw.exitCode, stdout: raw.stdout, stderr: raw.stderr, timedOut, oomKilled, seconds: elapsedMs / 1000 };
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
    const res = await this.run({
      cmd: ['find', dir, '-mindepth', '1', '-maxdepth', '1', '-printf', '%Y\\t%s\\t%P\\0'],
      workdir: WORKSPACE,
      maxOutputBytes: 64 * 1024 * 1024,
      hardDeadlineMs: 60_000,
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
    await dockerCall(() => this.container.remove({ force: true, v: true })).catch((err: unknown) => {
      // 404: already gone; 409: removal already in progress.
      if (!isNotFound(err) && (err as { statusCode?: number }).statusCode !== 409) throw err;
    });
  }

  private async putWorkspaceTar(tarBytes: Buffer): Promise<void> {
    await dockerCall(() => this.container.putArchive(tarBytes, { path: WORKSPACE }));
  }

  /** Did the container's memory cgroup record an OOM kill since the last look? */
  private async sawNewOomKill(): Promise<boolean> {
    const probe = await this.run({ cmd: ['sh', '-c', OOM_PROBE], workdir: '/', maxOutputBytes: 4096, hardDeadlineMs: 10_000 });
    const [now, seen] = probe.stdout.trim().split(' ');
    if (now !== 'unknown') return Number(now) > Number(seen);
    // No cgroup file visible inside: fall back to Docker's (sticky) flag.
    const info = await dockerCall(() => this.container.inspect());
    return info.State.OOMKilled;
  }

  /** A raw docker exec; past hardDeadlineMs every agent process but init is killed and the result is marked. */
  private async run(p: { cmd: string[]; workdir: string; env?: Record<string, string>; maxOutputBytes: number; hardDeadlineMs: number }): Promise<{
    exitCode: number;
    stdout: string;
    stderr: string;
    killedByUs: boolean;
  }> {
    const exec = await dockerCall(() =>
      this.container.exec({
        Cmd: p.cmd,
        AttachStdout: true,
        AttachStderr: true,
        WorkingDir: p.workdir,
        Env: p.env ? Object.entries(p.env).map(([k, v]) => `${k}=${v}`) : undefined,
      }),
    );
    const stream = await dockerCall(() => exec.start({ hijack: true, stdin: false }));
    const out = new TailBuffer(p.maxOutputBytes);
    const err = new TailBuffer(p.maxOutputBytes);
    const outStream = new PassThrough().on('data', (c: Buffer) => out.push(c));
    const errStream = new PassThrough().on('data', (c: Buffer) => err.push(c));
    this.docker.modem.demuxStream(stream, outStream, errStream);
    let killedByUs = false;
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', reject);
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        killedByUs = true;
        resolve();
      }, p.hardDeadlineMs);
    });
    await Promise.race([ended, deadline]).finally(() => clearTimeout(timer));
    if (killedByUs) {
      // `kill -1` from uid 1000 reaches every agent process except init (pid 1), so the container lives on.
      await this.run({ cmd: ['sh', '-c', 'kill -KILL -1'], workdir: '/', maxOutputBytes: 4096, hardDeadlineMs: 10_000 }).catch(() => undefined);
      stream.destroy();
      return { exitCode: 137, stdout: out.text(), stderr: err.text(), killedByUs };
    }
    return { exitCode: await this.exitCodeOf(exec), stdout: out.text(), stderr: err.text(), killedByUs };
  }

  /** The exec's exit code; the stream can end a moment before Docker records it. */
  private async exitCodeOf(exec: Docker.Exec): Promise<number> {
    for (let i = 0; ; i++) {
      const info = await dockerCall(() => exec.inspect());
      if (!info.Running && info.ExitCode !== null) return info.ExitCode;
      if (i >= 200) throw new Error('docker exec: stream ended but the process still runs after 2 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
