import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { Worker } from '@temporalio/worker';
import { Sandbox } from '../activities/sandbox';
import { defaultImage, parseInput } from '../activities/sandbox/sandbox-config';
import { startLocalTemporal } from '../temporal-config/local-server';

/**
 * `mlagent bench sandbox [--json] [--n 30] [--no-temporal]`: the cost of one agent action in a warm sandbox
 * (docker exec) against a cold `docker run --rm` and a bare host process, measured in the same run, plus the
 * round-trip of a no-op Temporal activity (the other fixed cost of every action).
 */

export interface Stats {
  n: number;
  medianMs: number;
  p95Ms: number;
}

/** A further measurement reported beside the sandbox ones; this is where extra round-trips plug in. */
export interface ExtraMeasurement {
  name: string;
  targetMedianMs?: number;
  measure(n: number): Promise<Stats>;
}

const ACTIONS: { name: string; cmd: string[] }[] = [
  { name: 'ls /workspace', cmd: ['ls', '/workspace'] },
  { name: 'python3 -c "print(1)"', cmd: ['python3', '-c', 'print(1)'] },
];
const WARM_EXEC_OVERHEAD_TARGET_MS = 50;
const NOOP_ACTIVITY_TARGET_MS = 20;

const Args = z.object({ json: z.boolean(), n: z.number().int().min(3, '--n must be at least 3'), temporal: z.boolean() });

function parseArgs(argv: string[]): z.infer<typeof Args> {
  const out = { json: false, n: 30, temporal: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--no-temporal') out.temporal = false;
    else if (a === '--n') out.n = Number(argv[++i]);
    else throw new Error(`bench sandbox: unknown option '${a}' (options: --json, --n N, --no-temporal)`);
  }
  return parseInput(Args, out, 'bench sandbox');
}

export function stats(samplesMs: number[]): Stats {
  const s = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { n: s.length, medianMs: round(s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2), p95Ms: round(at(0.95)) };
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Times fn n times after two untimed warm-up calls (first-call caches are not what an episode sees). */
async function timeIt(n: number, fn: () => Promise<void>): Promise<Stats> {
  for (let i = 0; i < 2; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return stats(samples);
}

function runProcess(cmd: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd.join(' ')} exited ${code}: ${stderr.trim()}`))));
  });
}

/**
 * Median/p95 of a no-op activity called from a workflow on a local Temporal dev server. The workflow times
 * each call with workflow time (the activation timestamps), i.e. schedule -> worker -> completion -> next task.
 * Runs in a child process whose stdout goes nowhere: the dev server prints a banner there, which would
 * break `--json`.
 */
export const temporalNoopRoundTrip: ExtraMeasurement = {
  name: 'Temporal no-op activity round-trip',
  targetMedianMs: NOOP_ACTIVITY_TARGET_MS,
  measure: (n) =>
    new Promise<Stats>((resolve, reject) => {
      const child = fork(__filename, [NOOP_CHILD_FLAG, String(n)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      child.on('message', (m: { stats?: Stats; error?: string }) => (m.stats ? resolve(m.stats) : reject(new Error(m.error))));
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`Temporal measurement process exited ${code} without a result`)));
    }),
};

const NOOP_CHILD_FLAG = '--noop-round-trip-child';

async function measureNoopRoundTrip(n: number): Promise<Stats> {
  const workflowsPath = require.resolve('./support/noop-workflow');
  const env = await startLocalTemporal();
  try {
    const taskQueue = `bench-noop-${process.pid}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath, activities: { noop: async () => undefined } });
    const samples = await worker.runUntil(
      env.client.workflow.execute('noopRoundTrips', { taskQueue, workflowId: `bench-noop-${Date.now()}`, args: [n + 2] }) as Promise<number[]>,
    );
    return stats(samples.slice(2)); // the first two include worker warm-up
  } finally {
    await env.teardown();
  }
}

export interface SandboxBenchReport {
  image: string;
  host: { cpus: number; node: string; python: string };
  actions: { action: string; warmExec: Stats; coldDockerRun: Stats; hostProcess: Stats; warmOverheadMs: number; warmVsHostRatio: number; coldVsWarmRatio: number }[];
  extra: { name: string; stats?: Stats; targetMedianMs?: number; error?: string }[];
  targets: { warmExecOverheadMedianMs: number; warmExecOverheadMet: boolean };
}

/** The whole benchmark; `extraMeasurements` is the place for further round-trips (Temporal by default). */
export async function runSandboxBench(p: { n: number; extraMeasurements: ExtraMeasurement[] }): Promise<SandboxBenchReport> {
  const image = defaultImage();
  const hostPython = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-bench-ws-'));
  fs.writeFileSync(path.join(hostDir, 'train.py'), 'print("train")\n');
  const sb = await Sandbox.create({ workspaceDir: hostDir, labels: { 'mlagent.bench': 'sandbox' } });
  const actions: SandboxBenchReport['actions'] = [];
  try {
    for (const a of ACTIONS) {
      const warmExec = await timeIt(p.n, async () => {
        const r = await sb.exec({ cmd: a.cmd, timeoutMs: 60_000 });
        if (r.exitCode !== 0) throw new Error(`warm exec of ${a.name} failed (${r.exitCode}): ${r.stderr}`);
      });
      const coldDockerRun = await timeIt(p.n, () =>
        runProcess(['docker', 'run', '--rm', '--network', 'none', '--user', '1000:1000', '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', image, ...a.cmd]),
      );
      const hostCmd = a.cmd[0] === 'python3' ? [hostPython, ...a.cmd.slice(1)] : a.cmd[0] === 'ls' ? ['ls', hostDir] : a.cmd;
      const hostProcess = await timeIt(p.n, () => runProcess(hostCmd));
      actions.push({
        action: a.name,
        warmExec,
        coldDockerRun,
        hostProcess,
        warmOverheadMs: round(warmExec.medianMs - hostProcess.medianMs),
        warmVsHostRatio: round(warmExec.medianMs / hostProcess.medianMs),
        coldVsWarmRatio: round(coldDockerRun.medianMs / warmExec.medianMs),
      });
    }
  } finally {
    await sb.destroy();
    fs.rmSync(hostDir, { recursive: true, force: true });
  }
  const extra: SandboxBenchReport['extra'] = [];
  for (const m of p.extraMeasurements) {
    try {
      extra.push({ name: m.name, stats: await m.measure(p.n), targetMedianMs: m.targetMedianMs });
    } catch (err) {
      extra.push({ name: m.name, targetMedianMs: m.targetMedianMs, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const worstOverhead = Math.max(...actions.map((a) => a.warmOverheadMs));
  return {
    image,
    host: { cpus: os.cpus().length, node: process.version, python: hostPython },
    actions,
    extra,
    targets: { warmExecOverheadMedianMs: WARM_EXEC_OVERHEAD_TARGET_MS, warmExecOverheadMet: worstOverhead <= WARM_EXEC_OVERHEAD_TARGET_MS },
  };
}

function printReport(r: SandboxBenchReport): void {
  const fmt = (s: Stats) => `${s.medianMs.toFixed(1).padStart(7)} ${s.p95Ms.toFixed(1).padStart(7)}`;
  console.log(`sandbox benchmark: image ${r.image}, ${r.host.cpus} CPUs, host python ${r.host.python}; ms, median and p95 of n=${r.actions[0]?.warmExec.n}`);
  console.log(`${'action'.padEnd(24)} ${'warm exec'.padStart(15)} ${'cold docker run'.padStart(15)} ${'host process'.padStart(15)}  overhead  warm/host  cold/warm`);
  for (const a of r.actions) {
    console.log(
      `${a.action.padEnd(24)} ${fmt(a.warmExec)} ${fmt(a.coldDockerRun)} ${fmt(a.hostProcess)}  ${a.warmOverheadMs.toFixed(1).padStart(8)}  ${a.warmVsHostRatio.toFixed(2).padStart(9)}  ${a.coldVsWarmRatio.toFixed(2).padStart(9)}`,
    );
  }
  console.log(`warm exec overhead target <= ${r.targets.warmExecOverheadMedianMs} ms median: ${r.targets.warmExecOverheadMet ? 'met' : 'NOT met'}`);
  for (const e of r.extra) {
    if (e.stats) {
      const verdict = e.targetMedianMs === undefined ? '' : ` (target <= ${e.targetMedianMs} ms median: ${e.stats.medianMs <= e.targetMedianMs ? 'met' : 'NOT met'})`;
      console.log(`${e.name}: median ${e.stats.medianMs} ms, p95 ${e.stats.p95Ms} ms, n=${e.stats.n}${verdict}`);
    } else {
      console.log(`${e.name}: failed: ${e.error}`);
    }
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const report = await runSandboxBench({ n: args.n, extraMeasurements: args.temporal ? [temporalNoopRoundTrip] : [] });
  if (args.json) console.log(JSON.stringify(report, null, 2));
  else printReport(report);
  return report.extra.some((e) => e.error) ? 1 : 0;
}

// The child process of temporalNoopRoundTrip.
if (require.main === module && process.argv[2] === NOOP_CHILD_FLAG) {
  measureNoopRoundTrip(Number(process.argv[3])).then(
    (s) => process.send!({ stats: s }, () => process.exit(0)),
    (err: unknown) => process.send!({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1)),
  );
}
