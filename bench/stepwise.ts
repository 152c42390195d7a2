import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ArtifactStore } from '../activities/artifact-store';
import { MetricCache } from '../activities/metric-cache';
import { parseInput } from '../activities/sandbox/sandbox-config';
import type { ArtifactRef } from '../core/artifact-ref';
import { PoolState } from '../core/collect-schema';
import { failureMessage } from '../core/failure-message';
import { PpoIterationMetrics, type PpoInput } from '../core/ppo-schema';
import { ORCHESTRATOR_QUEUE } from '../core/queues';
import { loadModelRecord } from '../model/model-registry';
import { DEFAULT_BASE_MODEL, type SftResult } from '../model/sft-params';
import { startModelWorkerProcess, startTestStack, type TestStack } from '../workers/test-stack';
import type { CollectResult } from '../workflows/collect';
import type { PpoResult } from '../workflows/ppo';
import { ppoTimeSplit } from './support/ppo-history';

/**
 * `mlagent bench stepwise [--budget-min 4] [--tasks co2] [--model tiny|default] [--states-pool SHA256] [--json]`:
 * step-wise PPO (ML-Agent) against its episode-wise baseline, each mode trained for the same wall-clock budget from
 * the same policy on the same states pool and the same metric cache, then both final policies rewarded on the same
 * held-in states. Printed, as measured in this run: scored actions per sandbox-minute, policy updates per hour, mean
 * held-in reward, an iteration's wall time split into its model calls and the rest, and
 * `ratios.updates_per_hour_ratio` (step-wise / episode-wise; the paper's claim: ≥ 3).
 *
 * Its own stack (a local Temporal server, the orchestrator and sandbox workers in this process, a model worker
 * process) in a fresh MLAGENT_HOME: the caller's home is only read, for the default model and a given pool.
 * The pool is a small scripted collection on `--tasks` unless `--states-pool` names one of the caller's store;
 * the tiny policy is a fresh tiny model fine-tuned on that collection, the default one the imported pretrained model.
 */

const Args = z
  .object({
    budgetMin: z.number().positive('--budget-min must be positive'),
    tasks: z.array(z.string().min(1)).min(1, '--tasks needs a task'),
    model: z.enum(['tiny', 'default']),
    statesPool: z.string().regex(/^[0-9a-f]{64}$/, '--states-pool is a sha256').optional(),
    json: z.boolean(),
  })
  .refine((a) => !(a.statesPool && a.model === 'tiny'), { message: 'the tiny policy learns from the bench\'s own collection: use --model default with it', path: ['statesPool'] });
type Args = z.infer<typeof Args>;

function parseArgs(argv: string[]): Args {
  const out: Record<string, unknown> = { budgetMin: 4, tasks: ['co2'], model: 'tiny', json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--budget-min') out.budgetMin = Number(argv[++i]);
    else if (a === '--tasks') out.tasks = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--model') out.model = argv[++i];
    else if (a === '--states-pool') out.statesPool = argv[++i];
    else throw new Error(`bench stepwise: unknown option '${a}' (options: --budget-min M, --tasks a,b, --model tiny|default, --states-pool SHA256, --json)`);
  }
  return parseInput(Args, out, 'bench stepwise');
}

/** One PPO configuration for both modes: only `mode` differs (B states or episodes, n = 2 actions a state). */
const PPO: Omit<PpoInput, 'statesPool' | 'checkpoint'> = {
  iterations: 10_000, statesPerIteration: 2, actionsPerState: 2, maxSteps: 15, minibatchSize: 4, maxNewTokens: 128, continueAsNewEvery: 10_000, seed: 1,
};
/** Held-in evaluation: one action from each of these many pool states, by the final policy, rewarded as in training. */
const EVAL_STATES = 8;

export interface ModeReport {
  iterations: number;
  wallSeconds: number;
  updatesPerHour: number;
  /** Sampled actions by reward-module outcome over the whole run (left out ones under `leftOut`). */
  kinds: Record<string, number>;
  /** Rows of one update on average: B·n step-wise; episodic, B times the episodes' mean length. */
  actionsPerUpdate: number;
  /** Actions executed in a sandbox and rewarded (invalid ones need no sandbox). */
  scoredActions: number;
  /** Sandbox-queue activity time (restores, actions, scoring runs, closes), summed over parallel containers. */
  sandboxMinutes: number;
  scoredActionsPerSandboxMinute: number;
  /**
   * Wall time of an iteration on average, and how it splits: each model-queue call type (the iteration waits on one
   * at a time, so these are wall time), then `other`: sandbox work, rewards, state sampling, workflow tasks.
   */
  secondsPerIteration: Record<string, number>;
  /** Sandbox-queue time of an iteration on average by activity type (restores, actions, scoring runs, closes), summed over containers. */
  sandboxSecondsPerIteration: Record<string, number>;
  meanTrainReward: number;
  meanHeldInReward: number;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  // the caller's home, read before this run switches to its own
  const callerStore = new ArtifactStore();
  const defaultModel = args.model === 'default' ? await loadModelRecord(DEFAULT_BASE_MODEL) : undefined;
  if (args.model === 'default' && !defaultModel) throw new Error(`${DEFAULT_BASE_MODEL} is not imported: run make setup`);
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'mlagent-bench-stepwise-'));
  process.env.MLAGENT_HOME = home;
  const log = (m: string) => console.error(`[bench stepwise ${new Date().toISOString().slice(11, 19)}] ${m}`);
  let stack: TestStack | undefined;
  let modelWorker: ChildProcess | undefined;
  try {
    stack = await startTestStack();
    modelWorker = startModelWorkerProcess(stack);
    const start = startWorkflow(stack);
    const { statesPool, checkpoint, rewardScales } = await setUp({ args, callerStore, defaultModel: defaultModel?.checkpoint, start, log });
    const metricCache = new MetricCache().root;
    const setUpScores = `${metricCache}.set-up`;
    await fs.mkdir(metricCache, { recursive: true });
    await fs.cp(metricCache, setUpScores, { recursive: true });
    const train = async (mode: 'stepwise' | 'episodic') => {
      // Each mode starts from the scores the set-up left: what one mode paid to score must not speed up the other.
      await fs.rm(metricCache, { recursive: true, force: true });
      await fs.cp(setUpScores, metricCache, { recursive: true });
      log(`${mode}: training for ${args.budgetMin} min`);
      const r = await trainFor({ stack: stack!, start, mode, input: { ...PPO, mode, statesPool, checkpoint, rewardScales }, budgetMs: args.budgetMin * 60_000 });
      log(`${mode}: ${JSON.stringify(r)}`);
      return r;
    };
    const modes = { stepwise: await train('stepwise'), episodic: await train('episodic') };
    const report = {
      budgetMin: args.budgetMin, model: args.model, tasks: args.tasks, statesPool: statesPool.sha256, ppo: PPO, evalStates: EVAL_STATES, loadAverage: os.loadavg(), modes,
      ratios: {
        updates_per_hour_ratio: round(modes.stepwise.updatesPerHour / modes.episodic.updatesPerHour),
        scored_actions_per_sandbox_minute_ratio: round(modes.stepwise.scoredActionsPerSandboxMinute / modes.episodic.scoredActionsPerSandboxMinute),
      },
    };
    if (args.json) console.log(JSON.stringify(report, null, 1));
    else {
      for (const [mode, r] of Object.entries(modes)) {
        console.log(`${mode.padEnd(9)} ${r.iterations} updates in ${r.wallSeconds.toFixed(0)} s = ${r.updatesPerHour.toFixed(1)}/h · ${r.scoredActionsPerSandboxMinute.toFixed(2)} scored actions/sandbox-min · held-in reward ${r.meanHeldInReward.toFixed(3)} · s/iteration ${Object.entries(r.secondsPerIteration).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
      }
      console.log(`updates per hour, step-wise / episode-wise: ${report.ratios.updates_per_hour_ratio} (target ≥ 3)`);
    }
    return 0;
  } finally {
    modelWorker?.kill('SIGKILL');
    await stack?.stop();
    await fs.rm(home, { recursive: true, force: true });
  }
}

type Start = <T>(type: string, id: string, input: unknown) => Promise<{ result: T; workflowId: string }>;

function startWorkflow(stack: TestStack): Start {
  return async <T>(type: string, id: string, input: unknown) => {
    const workflowId = `bench-stepwise-${id}-${Date.now()}`;
    const handle = await stack.env.client.workflow.start(type, { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [input] });
    const result = (await handle.result().catch((err: unknown) => {
      throw new Error(`${type} failed: ${failureMessage(err)}`);
    })) as T;
    return { result, workflowId };
  };
}

/** The states pool, the starting policy and the reward scales both modes share. */
async function setUp(p: { args: Args; callerStore: ArtifactStore; defaultModel?: ArtifactRef; start: Start; log: (m: string) => void }) {
  const store = new ArtifactStore();
  let statesPool: ArtifactRef;
  let rewardScales: PpoInput['rewardScales'];
  let dataset: ArtifactRef | undefined;
  if (p.args.statesPool) {
    statesPool = await copyPool({ from: p.callerStore, to: store, sha256: p.args.statesPool });
  } else {
    p.log(`collecting a small scripted collection on ${p.args.tasks.join(', ')}`);
    const { result } = await p.start<CollectResult>('collectTrajectories', 'collect', {
      tasks: p.args.tasks, ideasPerTask: 1, episodesPerTask: 1, ideasPerEpisode: { min: 1, max: 1 }, concurrency: 2, limits: { maxSteps: 8 },
    });
    ({ statesPool, rewardScales } = result);
    dataset = result.sft;
    p.log(`${result.counts.states} states, ${result.counts.sftPairs} SFT pairs`);
  }
  let checkpoint: ArtifactRef;
  if (p.defaultModel) {
    checkpoint = await copyArtifact({ from: p.callerStore, to: store, ref: p.defaultModel });
  } else {
    p.log('fine-tuning a fresh tiny model on the collection');
    const { result } = await p.start<SftResult>('sft', 'sft', {
      dataset, tokenizerVocabSize: 1024, epochs: 4, batchSize: 4, seqLen: 2048, lr: 3e-3, warmupSteps: 1,
      modelConfig: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 2048 },
    });
    checkpoint = result.checkpoint;
  }
  return { statesPool, checkpoint, rewardScales };
}

async function copyArtifact(p: { from: ArtifactStore; to: ArtifactStore; ref: Pick<ArtifactRef, 'sha256' | 'kind'> }): Promise<ArtifactRef> {
  const copied = await p.to.put(await fs.readFile(p.from.pathOf(p.ref)), p.ref.kind);
  if (copied.sha256 !== p.ref.sha256) throw new Error(`artifact ${p.ref.sha256} is corrupt in ${p.from.root}`);
  return copied;
}

/** A pool of the caller's store, with every workspace snapshot it restores. */
async function copyPool(p: { from: ArtifactStore; to: ArtifactStore; sha256: string }): Promise<ArtifactRef> {
  const pool = await copyArtifact({ ...p, ref: { sha256: p.sha256, kind: 'states-pool' } });
  const states = (await p.to.get(pool)).toString('utf8').split('\n').filter(Boolean).map((l) => PoolState.parse(JSON.parse(l)));
  for (const sha256 of new Set(states.map((s) => s.snapshot.sha256))) await copyArtifact({ ...p, ref: { sha256, kind: 'workspace-snapshot' } });
  return pool;
}

/** Trains one mode until the budget is spent (the iteration in progress then finishes), then rewards its final policy. */
async function trainFor(p: { stack: TestStack; start: Start; mode: string; input: PpoInput; budgetMs: number }): Promise<ModeReport> {
  const handle = await p.stack.env.client.workflow.start('ppo', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `bench-stepwise-${p.mode}-${Date.now()}`, args: [p.input] });
  // the budget is wall-clock by definition: a timer, not a condition
  const timer = new Promise((r) => setTimeout(r, p.budgetMs));
  const done = handle.result();
  await Promise.race([timer, done.catch(() => undefined)]);
  await handle.signal('stop').catch(() => undefined);
  const result = (await done.catch((err: unknown) => {
    throw new Error(`ppo (${p.mode}) failed: ${failureMessage(err)}`);
  })) as PpoResult;
  const described = await handle.describe();
  const wallSeconds = ((described.closeTime?.getTime() ?? Date.now()) - described.startTime.getTime()) / 1000;
  const metrics = (await new ArtifactStore().get(result.metricsLog)).toString().trim().split('\n').map((l) => PpoIterationMetrics.parse(JSON.parse(l)));
  const kinds: Record<string, number> = {};
  for (const m of metrics) for (const [kind, c] of Object.entries({ ...m.kinds, leftOut: m.leftOut })) kinds[kind] = (kinds[kind] ?? 0) + c;
  const scoredActions = Object.entries(kinds).reduce((n, [kind, c]) => n + (kind === 'invalid' || kind === 'leftOut' ? 0 : c), 0);
  const split = ppoTimeSplit((await handle.fetchHistory()).events ?? []);
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const perIteration = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, seconds]) => [k, round(seconds / Math.max(1, result.iterations))]));
  const sandboxMinutes = sum(split.sandboxSeconds) / 60;
  const heldIn = await p.start<PpoResult>('ppo', `${p.mode}-held-in`, { ...p.input, mode: 'stepwise', checkpoint: result.policy, iterations: 1, statesPerIteration: EVAL_STATES, actionsPerState: 1, seed: 7 });
  const [evaluated] = (await new ArtifactStore().get(heldIn.result.metricsLog)).toString().trim().split('\n').map((l) => PpoIterationMetrics.parse(JSON.parse(l)));
  return {
    iterations: result.iterations,
    wallSeconds: round(wallSeconds),
    updatesPerHour: round((result.iterations / wallSeconds) * 3600),
    kinds,
    actionsPerUpdate: round(Object.values(kinds).reduce((a, b) => a + b, 0) / Math.max(1, metrics.length)),
    scoredActions,
    sandboxMinutes: round(sandboxMinutes),
    scoredActionsPerSandboxMinute: round(sandboxMinutes > 0 ? scoredActions / sandboxMinutes : 0),
    secondsPerIteration: perIteration({ total: wallSeconds, ...split.modelSeconds, other: wallSeconds - sum(split.modelSeconds) }),
    sandboxSecondsPerIteration: perIteration(split.sandboxSeconds),
    meanTrainReward: round(metrics.at(-1)?.meanReward ?? 0),
    meanHeldInReward: round(evaluated.meanReward),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
