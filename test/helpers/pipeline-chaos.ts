import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { ArtifactStore } from '../../activities/artifact-store';
import { dockerClient } from '../../activities/sandbox/docker-client';
import { HOST_LABEL } from '../../activities/sandbox/cleanup';
import { presetFile } from '../../cli/pipeline-config';
import { ArtifactRef } from '../../core/artifact-ref';
import type { PipelineInput } from '../../core/pipeline-schema';
import type { PpoIterationMetrics } from '../../core/ppo-schema';
import { ORCHESTRATOR_QUEUE, sandboxHostQueue } from '../../core/queues';
import { seededRandom } from '../../core/rng';
import { SftHeartbeat, type StepRecord } from '../../model/sft-params';
import type { PipelineResult } from '../../workflows/pipeline';
import type { ChaosStack, DevPart } from './dev-stack';

/**
 * The smoke pipeline under kill -9 (test/chaos/pipeline-crash.test.ts, `mlagent bench chaos`): a run is a list of
 * rounds; each freezes one worker at a fault point (MLAGENT_PAUSE_AT), kills the chosen parts while it is frozen,
 * then the frozen worker itself, so no kill races the machine's speed.
 */

/** smoke.json with failure detection quick enough for a test: a dead model worker is noticed after 15 s, not 5 min. */
export function chaosPipelineInput(): PipelineInput {
  const smoke = JSON.parse(fs.readFileSync(presetFile('smoke'), 'utf8')) as PipelineInput & { sft: object; ppo: object };
  return { ...smoke, sft: { ...smoke.sft, heartbeatTimeoutSeconds: 15, checkpointEvery: 1 }, ppo: { ...smoke.ppo, heartbeatTimeoutSeconds: 15 } };
}

/** What must not change under crashes: counted from the result and from the artifacts it points to. */
export interface PipelineCounts {
  collectEpisodes: number;
  /** (episode, step) rows of the trajectory set, each once. */
  trajectorySteps: number;
  sftSteps: number;
  ppoIterations: number;
  evaluateEpisodes: number;
  /** Artifact refs in the result, each re-read and re-verified by hash. */
  artifacts: number;
}

/** Every artifact ref anywhere in a result. */
function refsIn(v: unknown): ArtifactRef[] {
  if (Array.isArray(v)) return v.flatMap(refsIn);
  if (!v || typeof v !== 'object') return [];
  const ref = ArtifactRef.safeParse(v);
  return ref.success ? [ref.data] : Object.values(v).flatMap(refsIn);
}

const jsonl = async <T>(store: ArtifactStore, ref: ArtifactRef) =>
  (await store.get(ref)).toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);

/** Counts the run's units of work, failing on any one duplicated, missing or failed; every ref is verified by hash. */
export async function pipelineCounts(res: PipelineResult): Promise<PipelineCounts> {
  const store = new ArtifactStore();
  const refs = refsIn(res);
  for (const ref of refs) await store.get(ref); // get re-hashes: a corrupt or missing artifact throws
  assert.ok(res.collect && res.sft && res.ppo && res.evaluate && !res.stopped, 'every stage ran');
  const eps = res.collect.episodes;
  assert.deepEqual(eps.filter((e) => !e.ok).map((e) => e.error), [], 'no collection episode failed');
  assert.equal(new Set(eps.map((e) => e.workflowId)).size, eps.length, 'each collection episode once');
  const rows = await jsonl<{ episodeId: string; step: number }>(store, res.collect.trajectories);
  const keys = rows.map((r) => `${r.episodeId}#${r.step}`);
  assert.equal(new Set(keys).size, keys.length, 'each trajectory step once');
  assert.equal(new Set(rows.map((r) => r.episodeId)).size, eps.length, 'one trajectory per episode');
  const curve = (await store.getJson<{ steps: StepRecord[] }>(res.sft.lossCurve)).steps;
  assert.deepEqual(curve.map((s) => s.step), Array.from({ length: res.sft.steps }, (_, i) => i + 1), 'SFT steps 1..N, each once');
  const log = await jsonl<PpoIterationMetrics>(store, res.ppo.metricsLog);
  assert.deepEqual(log.map((m) => m.iteration), Array.from({ length: res.ppo.iterations }, (_, i) => i), 'each PPO iteration logged once');
  const scored = res.evaluate.scores.filter((s) => s.source === 'episodes');
  assert.deepEqual(scored.flatMap((s) => s.errors), [], 'no evaluation episode failed');
  return {
    collectEpisodes: eps.length,
    trajectorySteps: rows.length,
    sftSteps: curve.length,
    ppoIterations: log.length,
    evaluateEpisodes: scored.reduce((n, s) => n + s.metrics.length, 0),
    artifacts: refs.length,
  };
}

/** Containers still labelled with the stack's sandbox host (none may outlive a finished run). */
export async function leftContainers(s: ChaosStack): Promise<string[]> {
  const label = `${HOST_LABEL}=${sandboxHostQueue(s.env.MLAGENT_SANDBOX_HOST_ID!)}`;
  return (await dockerClient().listContainers({ all: true, filters: { label: [label] } })).map((c) => c.Id);
}

/** A worker frozen at `point`, during which `kill` die (in order; the frozen worker last if not among them), then all come back. */
export interface ChaosRound {
  point: string;
  kill: DevPart[];
}

type Frozen = 'sandbox' | 'model';
const ownerOf = (point: string): Frozen => (point.startsWith('runAction-') ? 'sandbox' : 'model');

/** mulberry32's first draws are alike for nearby seeds (1, 2, 3…): the seed is spread over 32 bits first. */
const chaosRandom = (seed: number) => seededRandom(Math.imul(seed, 0x9e3779b1));

/**
 * Fault points chosen by a seed, one per stage whose worker can be frozen: the sandbox's a-th action (collection),
 * SFT step b (of the undisturbed run's `sftSteps`), the first PPO update.
 */
export function seededPoints(p: { seed: number; sftSteps: number }): { collect: string; sft: string; ppo: string } {
  const rand = chaosRandom(p.seed);
  return { collect: `runAction-call-${1 + Math.floor(rand() * 3)}`, sft: `sft-step-${1 + Math.floor(rand() * p.sftSteps)}`, ppo: 'ppo-update-1' };
}

/** Every process kind once: the orchestrator and the Temporal server each die in the collection or the SFT round, seed-chosen. */
export function seededRounds(p: { seed: number; sftSteps: number }): ChaosRound[] {
  const points = seededPoints(p);
  const [first, second]: DevPart[] = chaosRandom(p.seed + 1_000_003)() < 0.5 ? ['orchestrator', 'temporal'] : ['temporal', 'orchestrator'];
  return [
    { point: points.collect, kill: [first, 'sandbox'] },
    { point: points.sft, kill: [second, 'model'] },
  ];
}

/**
 * Waits until the server holds the frozen SFT step's heartbeat (heartbeats are throttled), so a retry resumes from
 * that step's checkpoint: the kill then tests resuming, not only restarting.
 */
async function checkpointHeld(p: { stack: ChaosStack; workflowId: string; step: number }): Promise<void> {
  for (let i = 0; ; i++) {
    const pending = (await (await p.stack.client()).workflow.getHandle(p.workflowId).describe()).raw.pendingActivities ?? [];
    const beats = pending.flatMap((a) => a.heartbeatDetails?.payloads ?? []).map((x) => SftHeartbeat.safeParse(defaultPayloadConverter.fromPayload(x)));
    if (beats.some((b) => b.success && b.data.step === p.step)) return;
    assert.ok(i < 600, `the server holds the heartbeat of SFT step ${p.step} within 5 minutes`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Starts `trainPipeline` with `input` on a stack whose workers are all down or undisturbed, plays the rounds, and
 * returns the result and the kills done (by part). Each worker is (re)started paused at its next round's point.
 */
export async function runWithCrashes(p: { stack: ChaosStack; input: PipelineInput; rounds: ChaosRound[]; id: string }): Promise<{ result: PipelineResult; kills: DevPart[] }> {
  const s = p.stack;
  const pending = [...p.rounds];
  /** Each worker's next point: a restarted worker pauses there (counters such as runAction-call-n restart with it). */
  const nextPoints = () => [...new Set(['sandbox', 'model'].map((w) => pending.find((r) => ownerOf(r.point) === w)?.point).filter(Boolean))].join(',');
  const started = fs.existsSync(path.join(s.home, 'dev', 'model.pid'));
  if (started) for (const part of ['sandbox', 'model'] as const) await s.kill(part); // restart them paused
  const logEnd = (part: DevPart) => (started ? s.log(part).length : 0);
  const marks: Record<Frozen, number> = { sandbox: logEnd('sandbox'), model: logEnd('model') };
  s.up(nextPoints());
  await (await s.client()).workflow.start('trainPipeline', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: p.id, args: [p.input] });
  const kills: DevPart[] = [];
  while (pending.length) {
    const round = pending.shift()!;
    const owner = ownerOf(round.point);
    await s.waitLog({ part: owner, text: `paused at ${round.point}\n`, after: marks[owner] });
    const sftStep = /^sft-step-(\d+)$/.exec(round.point);
    if (sftStep) await checkpointHeld({ stack: s, workflowId: `${p.id}/sft`, step: Number(sftStep[1]) });
    // One `dev up` after all the round's kills: it waits for every running worker's pollers, and a frozen worker
    // (its only activity slot taken) does not poll, so an up while it still runs would wait on it in vain.
    for (const part of round.kill.includes(owner) ? round.kill : [...round.kill, owner]) {
      await s.kill(part);
      kills.push(part);
      if (part === 'sandbox' || part === 'model') marks[part] = s.log(part).length;
    }
    s.up(nextPoints());
  }
  return { result: await s.result<PipelineResult>(p.id), kills };
}
