import { Context } from '@temporalio/activity';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ArtifactRef } from '../../core/artifact-ref';
import { DEFAULT_POLICY_DECODING, StepKind, type Decoding } from '../../core/episode-schema';
import { PpoUpdateHyper, type PpoUpdateMetrics } from '../../core/ppo-schema';
import { initBackend } from '../../model/backend';
import { checkpointFiles, getCheckpoint, KEPT_FROM_BASE, modelFromFiles, putCheckpoint, type CheckpointFiles } from '../../model/checkpoint';
import { DecodingMasks, MaskReplay, maskReplays } from '../../model/decoding-masks';
import { generate, type GenerateOptions, type TokenPair } from '../../model/generate';
import { chosenTokens, PpoTrainer, scoreResponses } from '../../model/ppo-update';
import { samePromptGroups } from '../../model/shared-prompt-batch';
import { decodeSafetensors, encodeSafetensors } from '../../model/safetensors';
import { ArtifactStore } from '../artifact-store';
import { pauseIfRequested } from '../fault-points';
import type { PromptState } from '../../core/prompt';
import { forgetPolicy, loadedPolicies, policyFor, renderStatePrompt } from './policy-act';
import { openScalarLog } from './tensorboard';
import { stateConstraint } from './workspace-facts';

/** The optimizer moments travel inside the policy checkpoint, so each iteration continues the same optimisation. */
const OPTIMIZER_FILE = 'ppo_optimizer.safetensors';
const STATE_FILE = 'ppo_state.json';
/** `iterations`: updates that led to this policy, so the next update knows its iteration (its TensorBoard step). */
const PpoState = z.object({ step: z.number().int().nonnegative(), iterations: z.number().int().nonnegative().default(0) });

/** ppoUpdate calls of this process, so a crash test can freeze its n-th update. */
let updateCalls = 0;

const Rollouts = z.object({
  /** `masks`: how the row was decoded when constrained (each state's own grounded constraint). */
  rows: z.array(z.object({ prompt: z.array(z.number().int()), continuation: z.array(z.number().int()), masks: MaskReplay.optional() })),
  /** How rows without their own `masks` were decoded (rollouts recorded before per-row constraints). */
  masks: MaskReplay.nullable().default(null),
});

export interface PpoRolloutInput {
  policy: ArtifactRef;
  /** Rendered like `policyAct`'s, so a rollout's prompt is the one the policy acts from in episodes. */
  states: PromptState[];
  actionsPerState: number;
  temperature: number;
  maxNewTokens: number;
  seed: number;
  /** Absent in inputs scheduled before the option existed: those get the policy agent's default. */
  decoding?: Decoding;
  /** Each state's workspace snapshot, aligned with `states`: constrained decoding is grounded in it. */
  workspaces?: ArtifactRef[];
}

export interface PpoRolloutResult {
  /** Token ids of every (prompt, action), state-major: state i's action j is row i·n + j. */
  rollouts: ArtifactRef;
  responses: string[];
}

/** n sampled actions per state prompt, in one batched generation; the token ids go to the store, not the history. */
export async function ppoRollout(a: PpoRolloutInput): Promise<PpoRolloutResult> {
  await initBackend();
  const { model, tokenizer, renderer } = await policyFor(a.policy);
  const prompts = a.states.flatMap((state) => Array<string>(a.actionsPerState).fill(renderStatePrompt({ model, renderer, state, maxNewTokens: a.maxNewTokens })));
  if (a.workspaces && a.workspaces.length !== a.states.length) throw new Error(`${a.workspaces.length} workspaces for ${a.states.length} states`);
  const perState = await Promise.all(a.states.map((_, i) => stateConstraint(a.workspaces?.[i])));
  const constraint = perState.flatMap((c) => Array<typeof c>(a.actionsPerState).fill(c));
  const options: GenerateOptions = { temperature: a.temperature, maxNewTokens: a.maxNewTokens, seed: a.seed, decoding: a.decoding ?? DEFAULT_POLICY_DECODING, constraint };
  const gens = generate(model, tokenizer, prompts, options);
  const replays = maskReplays(options, prompts.length);
  const rows = gens.map((g, i) => ({ prompt: tokenizer.encode(prompts[i]), continuation: chosenTokens(g, tokenizer.eosId), ...(replays[i] ? { masks: replays[i]! } : {}) }));
  return { rollouts: await new ArtifactStore().putJson({ rows, masks: null } satisfies z.input<typeof Rollouts>, 'ppo-rollouts'), responses: gens.map((g) => g.text) };
}

/** One rollouts artifact of several, rows in order (episodic PPO generates each step's actions in its own call). */
export async function ppoJoinRollouts(a: { parts: ArtifactRef[] }): Promise<ArtifactRef> {
  const store = new ArtifactStore();
  const parts = await Promise.all(a.parts.map(async (ref) => Rollouts.parse(await store.getJson(ref))));
  const masks = parts[0]?.masks ?? null;
  if (parts.some((p) => JSON.stringify(p.masks) !== JSON.stringify(masks))) throw new Error('rollouts decoded with different constraints cannot be scored as one batch');
  return store.putJson({ rows: parts.flatMap((p) => p.rows), masks } satisfies z.infer<typeof Rollouts>, 'ppo-rollouts');
}

export interface PpoUpdateInput {
  policy: ArtifactRef;
  /** The KL reference (the run's starting checkpoint). */
  reference: ArtifactRef;
  rollouts: ArtifactRef;
  /** The reward module's reward of each rollout row; null drops the row (its action could not be executed). */
  rewards: (number | null)[];
  /** The outcome kind of each row (null where left out), for the per-kind counts in TensorBoard; absent in older inputs. */
  kinds?: (StepKind | null)[];
  hyper: PpoUpdateHyper;
  /** Minibatch order of this update. */
  seed: number;
}

export interface PpoUpdateResult {
  policy: ArtifactRef;
  metrics: PpoUpdateMetrics;
}

/**
 * PPO epochs on one iteration's batch: the old log-probs and values come from the policy as it generated the
 * batch, the reference log-probs from the reference checkpoint. Deterministic for its input, so a retry redoes
 * the same update.
 */
export async function ppoUpdate(a: PpoUpdateInput): Promise<PpoUpdateResult> {
  await initBackend();
  const ctx = Context.current();
  const call = ++updateCalls;
  const hyper = PpoUpdateHyper.parse(a.hyper);
  const store = new ArtifactStore();
  const { rows: all, masks: replay } = Rollouts.parse(await store.getJson(a.rollouts));
  if (all.length !== a.rewards.length) throw new Error(`${all.length} rollouts but ${a.rewards.length} rewards`);
  const kept = all.flatMap((r, i) => (a.rewards[i] === null ? [] : [{ ...r, reward: a.rewards[i]! }]));
  // the rollout's copy of this policy (in policyFor's cache) is never acted with again: this update supersedes it,
  // and keeping it held 0.5 GB per past iteration (three of them in the cache)
  forgetPolicy(a.policy);
  const rows = kept.map(({ prompt, continuation, masks }) => ({ prompt, continuation, ...(masks ? { masks } : {}) }));
  let files: CheckpointFiles | undefined = await getCheckpoint(store, a.policy);
  const { model, tokenizer } = modelFromFiles(files, `policy ${a.policy.sha256.slice(0, 12)}`);
  let saved = files.get(OPTIMIZER_FILE);
  const stateFile = files.get(STATE_FILE);
  // only the small files of the base go into the new checkpoint: the weights (0.5 GB) and moments (1 GB) can go now
  const base: CheckpointFiles = new Map([...files].filter(([name]) => KEPT_FROM_BASE.includes(name)));
  files = undefined;
  const masks = replay || rows.some((r) => r.masks) ? new DecodingMasks(tokenizer, replay ?? undefined) : undefined;
  const trainer = new PpoTrainer(model, hyper, masks);
  try {
    const state = stateFile ? PpoState.parse(JSON.parse(stateFile.toString())) : undefined;
    if (saved) trainer.load(decodeSafetensors(saved, OPTIMIZER_FILE).tensors, PpoState.parse(state ?? null).step);
    saved = undefined;
    // A forward or backward pass blocks the event loop for up to a minute: heartbeat before and after each one.
    let step = 0;
    const alive = async (phase: string) => {
      ctx.heartbeat({ step, phase });
      await new Promise((r) => setImmediate(r));
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
    };
    const old = await inChunks({ rows, alive: () => alive('old log-probs'), score: (chunk) => {
      const scored = scoreResponses(model, chunk, masks);
      return scored.logprobs.map((logprobs, i) => ({ logprobs, values: scored.values[i] }));
    } });
    const refLogprobs = await referenceLogProbs({ store, ref: a.reference, rows, alive: () => alive('reference log-probs'), masks });
    const samples = kept.map((r, i) => ({ ...r, oldLogprobs: old[i].logprobs, refLogprobs: refLogprobs[i], oldValues: old[i].values }));
    const metrics = await trainer.update(samples, a.seed, {
      afterPass: () => alive('update'),
      afterStep: async (n) => {
        step = n;
        await alive('update');
        // Crash tests freeze the worker mid-update, after its first gradient step (MLAGENT_PAUSE_AT=ppo-update-n).
        if (n === 1) await pauseIfRequested(`ppo-update-${call}`, { step: n });
      },
    });
    const out = checkpointFiles(model, tokenizer, base);
    out.set(OPTIMIZER_FILE, encodeSafetensors(trainer.state()));
    const iteration = state?.iterations ?? 0;
    out.set(STATE_FILE, Buffer.from(JSON.stringify({ step: trainer.actor.step, iterations: iteration + 1 } satisfies z.infer<typeof PpoState>)));
    const policy = await putCheckpoint(store, out);
    logIteration({ run: ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId, iteration, rewards: a.rewards, kinds: a.kinds, metrics });
    return { policy, metrics };
  } finally {
    trainer.dispose();
    model.dispose();
    // what the worker still holds once an update is gone: a growing count across iterations is a leak
    const mem = tf.memory();
    console.log(`[ppo] update ${call} of this worker done: ${mem.numTensors} tensors (${(mem.numBytes / 2 ** 20).toFixed(0)} MiB) live (${loadedPolicies().length} policies loaded to act), RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  }
}

/**
 * The iteration's scalars as TensorBoard events (`ppo/<PpoIterationMetrics field>`, step = iteration): the update's
 * metrics, and the mean reward, left-out count and actions per outcome kind (`ppo/kinds/<kind>`, every kind, 0 when
 * none) of the rows it trained on (as the workflow computes them).
 */
function logIteration(p: { run: string; iteration: number; rewards: (number | null)[]; kinds?: (StepKind | null)[]; metrics: PpoUpdateMetrics }): void {
  const scalars = openScalarLog({ run: p.run, stage: 'ppo', log: (m) => console.log(`[ppo ${p.run}] ${m}`) });
  if (!scalars) return;
  const rewarded = p.rewards.filter((r): r is number => r !== null);
  const kinds = p.kinds ? Object.fromEntries(StepKind.options.map((k) => [`kinds/${k}`, p.kinds!.filter((o) => o === k).length])) : {};
  const values: Record<string, number> = { meanReward: rewarded.length ? rewarded.reduce((s, r) => s + r, 0) / rewarded.length : 0, leftOut: p.rewards.length - rewarded.length, ...kinds, ...p.metrics };
  scalars.scalars(p.iteration, Object.fromEntries(Object.entries(values).map(([k, v]) => [`ppo/${k}`, v])));
  scalars.flush();
}

/** The KL reference's log-probs, under the rollout's masks when it was constrained (the same distribution as the policy's). */
async function referenceLogProbs(p: { store: ArtifactStore; ref: ArtifactRef; rows: TokenPair[]; alive: () => Promise<void>; masks?: DecodingMasks }): Promise<number[][]> {
  const { model } = modelFromFiles(await getCheckpoint(p.store, p.ref), `reference ${p.ref.sha256.slice(0, 12)}`);
  try {
    return await inChunks({ rows: p.rows, alive: p.alive, score: (c) => scoreResponses(model, c, p.masks).logprobs });
  } finally {
    model.dispose();
  }
}

/**
 * Scores rows one prompt group at a time (one packed row: a state's actions), one result per row in row order,
 * so a large batch never needs one huge forward pass, and `alive` runs between passes.
 */
async function inChunks<T>(p: { rows: TokenPair[]; alive: () => Promise<void>; score: (chunk: TokenPair[]) => T[] }): Promise<T[]> {
  const out = new Array<T>(p.rows.length);
  for (const group of samePromptGroups(p.rows)) {
    await p.alive();
    p.score(group.map((i) => p.rows[i])).forEach((r, k) => (out[group[k]] = r));
  }
  return out;
}
