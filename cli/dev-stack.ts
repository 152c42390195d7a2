import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { mlagentHome } from '../core/home';
import { lastBackendLine } from '../model/backend-log';
import { MODEL_QUEUE, ORCHESTRATOR_QUEUE, SANDBOX_QUEUE } from '../core/queues';
import { temporalSettings } from '../temporal-config/connection';
import { DEV_SERVER, devServerArgs, ensureSearchAttributes } from '../temporal-config/dev-server';

const ROOT = path.resolve(__dirname, '..');

interface Part {
  name: string;
  /** The task queue whose pollers prove the part is healthy (workers only). */
  queue?: string;
  command: () => string[];
}

const PARTS: Part[] = [
  { name: 'temporal', command: () => [path.join(ROOT, '.venv/bin/temporal'), ...devServerArgs({ home: mlagentHome() })] },
  { name: 'orchestrator', queue: ORCHESTRATOR_QUEUE, command: () => workerCommand('orchestrator') },
  { name: 'sandbox', queue: SANDBOX_QUEUE, command: () => workerCommand('sandbox') },
  { name: 'model', queue: MODEL_QUEUE, command: () => workerCommand('model') },
];

function workerCommand(name: string): string[] {
  return [process.execPath, '--import', 'tsx', path.join(ROOT, 'workers', `${name}.ts`)];
}

const devDir = () => path.join(mlagentHome(), 'dev');
const pidFile = (name: string) => path.join(devDir(), `${name}.pid`);
export const logFile = (name: string) => path.join(devDir(), `${name}.log`);

function runningPid(name: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile(name), 'utf8').trim());
    if (!pid) return undefined;
    process.kill(pid, 0);
    // A killed part whose parent never reaps it lingers as a zombie: it is not running.
    const stat = `/proc/${pid}/stat`;
    if (fs.existsSync(stat) && /^\S+ \(.*\) Z/.test(fs.readFileSync(stat, 'utf8'))) return undefined;
    return pid;
  } catch {
    return undefined;
  }
}

function startDetached(part: Part): number {
  const [cmd, ...args] = part.command();
  if (!fs.existsSync(cmd)) throw new Error(`${part.name}: ${cmd} is missing; run \`make setup\``);
  const out = fs.openSync(logFile(part.name), 'a');
  const child = spawn(cmd, args, { cwd: ROOT, detached: true, stdio: ['ignore', out, out], env: { ...process.env, MLAGENT_HOME: mlagentHome() } });
  child.unref();
  fs.writeFileSync(pidFile(part.name), String(child.pid));
  return child.pid!;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on('error', () => resolve(false));
  });
}

/** Polls until `check` passes; gives up early when the process behind it has exited (`alive`). */
async function waitFor(p: { what: string; check: () => Promise<boolean>; timeoutMs: number; log: string; alive?: () => boolean }): Promise<void> {
  const end = Date.now() + p.timeoutMs;
  while (Date.now() < end) {
    if (await p.check()) return;
    if (p.alive && !p.alive()) throw new Error(`${p.what} exited while starting${logTail(p.log)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${p.what} did not come up within ${p.timeoutMs / 1000} s${logTail(p.log)}`);
}

function logTail(log: string): string {
  return fs.existsSync(log) ? `\n--- last lines of ${log} ---\n${fs.readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}` : '';
}

/** Pollers seen on a queue in the last minute: the worker is connected and polling. */
async function queueHasPollers(connection: Connection, namespace: string, queue: string): Promise<boolean> {
  const res = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: queue }, taskQueueType: queue === ORCHESTRATOR_QUEUE ? 1 : 2 });
  return (res.pollers ?? []).length > 0;
}

export interface PartStatus {
  name: string;
  pid?: number;
  healthy: boolean;
  detail: string;
}

/** Starts whatever part of the local stack is not running; returns once every part answers. */
export async function devUp(p: { parts?: string[] } = {}): Promise<PartStatus[]> {
  fs.mkdirSync(devDir(), { recursive: true });
  const settings = temporalSettings();
  const wanted = PARTS.filter((x) => !p.parts || p.parts.includes(x.name));
  for (const part of wanted) {
    if (part.name === 'temporal') {
      if (!(await portOpen(DEV_SERVER.port))) startDetached(part);
      await waitFor({ what: 'Temporal dev server', check: () => portOpen(DEV_SERVER.port), timeoutMs: 60_000, log: logFile('temporal') });
      continue;
    }
    if (!fs.existsSync(part.command()[3])) continue;
    if (!runningPid(part.name)) startDetached(part);
  }
  const connection = await Connection.connect({ address: settings.address, tls: settings.tls });
  try {
    const added = await ensureSearchAttributes(connection, settings.namespace);
    if (added.length) console.log(`registered search attributes missing from ${settings.namespace}: ${added.join(', ')}`);
    for (const part of wanted.filter((x) => x.queue && runningPid(x.name))) {
      await waitFor({
        what: `${part.name} worker`,
        check: () => queueHasPollers(connection, settings.namespace, part.queue!),
        timeoutMs: 120_000,
        log: logFile(part.name),
        alive: () => runningPid(part.name) !== undefined,
      });
    }
  } finally {
    await connection.close();
  }
  return devStatus();
}

export async function devStatus(): Promise<PartStatus[]> {
  fs.mkdirSync(devDir(), { recursive: true });
  const settings = temporalSettings();
  const serverUp = await portOpen(DEV_SERVER.port);
  const connection = serverUp ? await Connection.connect({ address: settings.address, tls: settings.tls }).catch(() => undefined) : undefined;
  try {
    const out: PartStatus[] = [];
    for (const part of PARTS) {
      const pid = runningPid(part.name);
      if (part.name === 'temporal') {
        const info = connection ? await connection.workflowService.getSystemInfo({}).catch(() => undefined) : undefined;
        out.push({ name: part.name, pid, healthy: Boolean(info), detail: info ? `server ${info.serverVersion} on ${settings.address}, UI http://localhost:${DEV_SERVER.uiPort}` : 'not answering' });
        continue;
      }
      if (!fs.existsSync(part.command()[3])) {
        out.push({ name: part.name, healthy: false, detail: 'not installed in this checkout' });
        continue;
      }
      const polling = connection && pid ? await queueHasPollers(connection, settings.namespace, part.queue!).catch(() => false) : false;
      const detail = pid ? (polling ? `polling ${part.queue}` : `running, not polling ${part.queue} yet`) : 'stopped';
      out.push({ name: part.name, pid, healthy: polling, detail: pid && part.name === 'model' ? `${detail}${modelDevice()}` : detail });
    }
    return out;
  } finally {
    await connection?.close();
  }
}

/** The model worker's backend and device, from its log since its start (`initBackend` logs them). */
function modelDevice(): string {
  const log = logFile('model');
  const line = fs.existsSync(log) ? lastBackendLine(fs.readFileSync(log, 'utf8')) : undefined;
  return line ? `; tfjs ${line}` : '';
}

/** Stops what `devUp` started (SIGTERM, then SIGKILL after 10 s); the SQLite history stays. */
export async function devDown(): Promise<string[]> {
  const stopped: string[] = [];
  for (const part of [...PARTS].reverse()) {
    const pid = runningPid(part.name);
    if (!pid) continue;
    process.kill(-pid, 'SIGTERM');
    const end = Date.now() + 10_000;
    while (Date.now() < end && runningPid(part.name)) await new Promise((r) => setTimeout(r, 200));
    if (runningPid(part.name)) process.kill(-pid, 'SIGKILL');
    fs.rmSync(pidFile(part.name), { force: true });
    stopped.push(part.name);
  }
  return stopped;
}
