import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { dockerCall } from './docker-client';

/** What the in-container server answers for one command (see exec-server.py). */
interface ServerReply {
  id: number;
  error?: string;
  code: number;
  out: string;
  err: string;
  dropped: [number, number];
  timed_out: boolean;
  oom: boolean | null;
}

export interface ServerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** null: the container's cgroup OOM counter is not visible inside. */
  oomKilled: boolean | null;
}

const SERVER_SOURCE = fs.readFileSync(path.join(__dirname, 'exec-server.py'), 'utf8');

const decode = (b64: string, dropped: number) => {
  const text = Buffer.from(b64, 'base64').toString('utf8');
  return dropped > 0 ? `[mlagent: first ${dropped} bytes of output dropped]\n${text}` : text;
};

/**
 * A client of one exec server in a container. A `docker exec` costs a runc start per call (tens of ms, far more
 * on a loaded host); the server is started once and then forks each command itself, so an action's overhead
 * is a line of JSON each way on an open connection.
 */
export class ExecServer {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(r: ServerReply): void; reject(e: Error): void }>();
  private buffered = '';
  private stderrTail = '';
  private closed = false;

  private constructor(private readonly stream: Duplex & { ref?(): void; unref?(): void }) {}

  static async start(docker: Docker, container: Docker.Container): Promise<ExecServer> {
    const exec = await dockerCall(() =>
      container.exec({ Cmd: ['python3', '-u', '-c', SERVER_SOURCE, 'mlagent-exec-server'], AttachStdin: true, AttachStdout: true, AttachStderr: true, WorkingDir: '/' }),
    );
    const stream = (await dockerCall(() => exec.start({ hijack: true, stdin: true }))) as Duplex;
    const server = new ExecServer(stream);
    return server.connect(docker);
  }

  get alive(): boolean {
    return !this.closed;
  }

  async run(p: { cmd: string[]; cwd: string; env?: Record<string, string>; timeoutMs: number; maxOutputBytes: number }): Promise<ServerResult> {
    const id = this.nextId++;
    const reply = await new Promise<ServerReply>((resolve, reject) => {
      if (this.closed) return reject(new Error(`sandbox exec server has ended${this.stderrTail ? `: ${this.stderrTail}` : ''}`));
      this.pending.set(id, { resolve, reject });
      this.stream.ref?.();
      this.stream.write(`${JSON.stringify({ id, cmd: p.cmd, cwd: p.cwd, env: p.env ?? {}, timeout: p.timeoutMs / 1000, max: p.maxOutputBytes })}\n`);
    });
    if (reply.error) throw new Error(`sandbox exec: ${reply.error}`);
    return {
      exitCode: reply.code,
      stdout: decode(reply.out, reply.dropped[0]),
      stderr: decode(reply.err, reply.dropped[1]),
      timedOut: reply.timed_out,
      oomKilled: reply.oom,
    };
  }

  /** Ends the connection; the server then kills what it still runs and exits. */
  close(): void {
    this.stream.destroy();
  }

  private connect(docker: Docker): Promise<ExecServer> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    docker.modem.demuxStream(this.stream, stdout, stderr);
    stderr.on('data', (c: Buffer) => (this.stderrTail = (this.stderrTail + c.toString()).slice(-2000)));
    return new Promise((resolve, reject) => {
      let ready = false;
      stdout.on('data', (c: Buffer) => {
        this.buffered += c.toString('utf8');
        let nl: number;
        while ((nl = this.buffered.indexOf('\n')) >= 0) {
          const line = this.buffered.slice(0, nl);
          this.buffered = this.buffered.slice(nl + 1);
          let msg: Partial<ServerReply> & { ready?: boolean };
          try {
            msg = JSON.parse(line) as typeof msg;
          } catch {
            // Not the server talking (e.g. Docker's error when the container went away mid-start).
            end(new Error(`unexpected output: ${line.slice(0, 300)}`));
            this.stream.destroy();
            return;
          }
          if (msg.ready) {
            ready = true;
            this.idle();
            resolve(this);
            continue;
          }
          const waiter = this.pending.get(msg.id!);
          this.pending.delete(msg.id!);
          waiter?.resolve(msg as ServerReply);
          if (this.pending.size === 0) this.idle();
        }
      });
      const end = (err?: Error) => {
        if (this.closed) return;
        this.closed = true;
        const said = `${this.buffered}${this.stderrTail}`.trim().slice(-2000);
        const why = new Error(`sandbox exec server ended${err ? ` (${err.message})` : ''}${said ? `: ${said}` : ''}`);
        for (const w of this.pending.values()) w.reject(why);
        this.pending.clear();
        if (!ready) reject(why);
      };
      this.stream.on('end', () => end());
      this.stream.on('close', () => end());
      this.stream.on('error', end);
    });
  }

  /** An idle connection must not keep the Node process alive. */
  private idle(): void {
    this.stream.unref?.();
  }
}

// One server per container per process, shared by every Sandbox object attached to that container.
const servers = new Map<string, Promise<ExecServer>>();

export async function execServerFor(docker: Docker, container: Docker.Container): Promise<ExecServer> {
  const existing = servers.get(container.id);
  if (existing) {
    const s = await existing.catch(() => undefined);
    if (s?.alive) return s;
    const replaced = servers.get(container.id);
    if (replaced && replaced !== existing) return replaced; // another caller restarted it meanwhile
  }
  const started = ExecServer.start(docker, container);
  servers.set(container.id, started);
  started.catch(() => servers.delete(container.id));
  return started;
}

export function closeExecServer(containerId: string): void {
  const s = servers.get(containerId);
  servers.delete(containerId);
  void s?.then((srv) => srv.close(), () => undefined);
}
