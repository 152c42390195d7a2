import os from 'node:os';
import { z } from 'zod';
import { parseInput } from '../activities/sandbox/sandbox-config';
import { failureMessage } from '../core/failure-message';
import { startChaosStack, type ChaosStack, type DevPart } from '../test/helpers/dev-stack';
import {
  chaosPipelineInput, leftContainers, pipelineCounts, runWithCrashes, seededPoints, type ChaosRound, type PipelineCounts,
} from '../test/helpers/pipeline-chaos';

/**
 * `mlagent bench chaos [--seeds N] [--json]`: the crash matrix over the smoke pipeline on a dev stack of its own
 * (own MLAGENT_HOME, ports and sandbox host id). One undisturbed run, then per seed and process kind one run in
 * which that kind is killed -9 at each of the seed's fault points (the sandbox's a-th collection action, SFT step b,
 * the first PPO update; the frozen worker dies after it). Printed: crashes survived by kind (kills in runs whose
 * counts equal the undisturbed run's, with no container left) and every divergence.
 */

const KINDS: DevPart[] = ['orchestrator', 'sandbox', 'model', 'temporal'];

const Args = z.object({ seeds: z.number().int().min(1, '--seeds must be a positive integer'), json: z.boolean() });

function parseArgs(argv: string[]): z.infer<typeof Args> {
  const out: Record<string, unknown> = { seeds: 3, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--seeds') out.seeds = Number(argv[++i]);
    else throw new Error(`bench chaos: unknown option '${a}' (options: --seeds N, --json)`);
  }
  return parseInput(Args, out, 'bench chaos');
}

interface MatrixRun {
  seed: number;
  kind: DevPart;
  points: string[];
  kills: DevPart[];
  seconds: number;
  /** What differs from the undisturbed run (empty: survived). */
  divergence: string[];
}

/** One disturbed run: its kills and how its counts (or failure) differ from the reference. */
async function disturbedRun(p: { stack: ChaosStack; seed: number; kind: DevPart; reference: PipelineCounts }): Promise<MatrixRun> {
  const points = Object.values(seededPoints({ seed: p.seed, sftSteps: p.reference.sftSteps }));
  const rounds: ChaosRound[] = points.map((point) => ({ point, kill: [p.kind] }));
  const t0 = Date.now();
  const run = { seed: p.seed, kind: p.kind, points, kills: [] as DevPart[], divergence: [] as string[] };
  const id = `bench-chaos-${p.kind}-${p.seed}-${Date.now()}`;
  try {
    const { result, kills } = await runWithCrashes({ stack: p.stack, input: chaosPipelineInput(), rounds, id });
    run.kills = kills;
    const counts = await pipelineCounts(result);
    for (const [k, v] of Object.entries(counts)) {
      const want = p.reference[k as keyof PipelineCounts];
      if (v !== want) run.divergence.push(`${k}: ${v} (undisturbed ${want})`);
    }
  } catch (err) {
    run.divergence.push(failureMessage(err));
    // a run stuck at a point must not hold the stack's workers during the next one
    await (await p.stack.client()).workflow.getHandle(id).terminate('bench chaos: run diverged').catch(() => undefined);
  }
  const left = await leftContainers(p.stack);
  if (left.length) run.divergence.push(`${left.length} container(s) left`);
  return { ...run, seconds: Math.round((Date.now() - t0) / 1000) };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const log = (m: string) => console.error(`[bench chaos ${new Date().toISOString().slice(11, 19)}] ${m}`);
  const stack = await startChaosStack('bench-chaos');
  process.env.MLAGENT_HOME = stack.home; // results are read from the stack's store
  try {
    const t0 = Date.now();
    const reference = await pipelineCounts((await runWithCrashes({ stack, input: chaosPipelineInput(), rounds: [], id: `bench-chaos-ref-${Date.now()}` })).result);
    log(`undisturbed run: ${Math.round((Date.now() - t0) / 1000)} s, ${JSON.stringify(reference)}`);
    const runs: MatrixRun[] = [];
    for (let seed = 1; seed <= args.seeds; seed++) {
      for (const kind of KINDS) {
        const r = await disturbedRun({ stack, seed, kind, reference });
        log(`seed ${seed}, ${kind} at ${r.points.join(', ')}: ${r.seconds} s, kills ${r.kills.join(' ')}; ${r.divergence.length ? `DIVERGED: ${r.divergence.join('; ')}` : 'same counts'}`);
        runs.push(r);
      }
    }
    const survived = Object.fromEntries(KINDS.map((k) => [k, runs.filter((r) => !r.divergence.length).flatMap((r) => r.kills).filter((x) => x === k).length]));
    const divergences = runs.filter((r) => r.divergence.length);
    const report = { seeds: args.seeds, loadAverage: os.loadavg(), reference, survived, runs, divergences: divergences.length };
    if (args.json) console.log(JSON.stringify(report, null, 1));
    else {
      console.log(`undisturbed: ${JSON.stringify(reference)}`);
      console.log(`crashes survived by kind: ${KINDS.map((k) => `${k} ${survived[k]}`).join(', ')} (${runs.length} disturbed runs, ${args.seeds} seed(s))`);
      for (const r of divergences) console.log(`divergence, seed ${r.seed}, ${r.kind} at ${r.points.join(', ')}: ${r.divergence.join('; ')}`);
      if (!divergences.length) console.log('no divergence');
    }
    return divergences.length ? 1 : 0;
  } finally {
    stack.down();
  }
}
