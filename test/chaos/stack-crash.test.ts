import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import { bankIdeas } from '../../activities/ideas/idea-bank';
import { loadTask, starterFile } from '../../activities/tasks/registry';
import { dockerClient } from '../../activities/sandbox/docker-client';
import type { EpisodeInput, EpisodeSummary, StepRecord } from '../../core/episode-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { seededRandom } from '../../core/rng';
import { startChaosStack } from '../helpers/dev-stack';

/**
 * kill -9 of every process kind of the dev stack (`mlagent dev up`: Temporal dev server on SQLite, orchestrator,
 * sandbox worker) during one episode, at points chosen by a seed (MLAGENT_CHAOS_SEED). The sandbox worker is frozen
 * at its n-th action (MLAGENT_PAUSE_AT) so every kill lands at that point whatever the machine's speed. The
 * episode must end exactly as an undisturbed run of the same input: same actions, outcomes and metrics.
 */
const SEED = Number(process.env.MLAGENT_CHAOS_SEED ?? 1);

test('kill -9 of the orchestrator, the sandbox worker and the Temporal server mid-episode: the episode ends exactly as an undisturbed one', { timeout: 900_000 }, async () => {
  const stack = await startChaosStack('chaos');
  const { up, kill, client } = stack;
  const waitPaused = (point: string, after: number) => stack.waitLog({ part: 'sandbox', text: `paused at ${point}\n`, after });
  const spec = loadTask('co2');
  const ideas = bankIdeas({ source: fs.readFileSync(starterFile(spec), 'utf8'), scriptName: 'train.py', taskType: spec.type, metric: spec.metric.name }).slice(0, 2);
  const input: EpisodeInput = { task: 'co2', seed: 5, seedIdeas: ideas, limits: { hostLostAfterSec: 60 } };
  const run = async (id: string) => (await client()).workflow.start('runEpisode', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: id, args: [input] });
  const result = (id: string) => stack.result<EpisodeSummary>(id);
  process.env.MLAGENT_HOME = stack.home;
  const store = new ArtifactStore();
  const stepsOf = async (s: EpisodeSummary) => (await store.get(s.trajectory)).toString().trim().split('\n').map((l) => JSON.parse(l) as StepRecord);

  try {
    up();
    const reference = await stepsOf(await result((await run(`chaos-ref-${Date.now()}`)).workflowId));
    assert.ok(reference.length >= 6, `the reference episode has room for two crash points (${reference.length} steps)`);
    const rand = seededRandom(SEED);
    const first = 2 + Math.floor(rand() * 2); // the n-th action of the first sandbox process
    const second = 2 + Math.floor(rand() * 2); // … of its successor, which starts with the retried action
    console.log(`seed ${SEED}: crash points at the sandbox's action ${first}, then its successor's action ${second} (reference: ${reference.length} steps)`);

    await kill('sandbox');
    up(`runAction-call-${first}`);
    const id = `chaos-${Date.now()}`;
    await run(id);

    // Round 1: the orchestrator and the server die while an action is in flight; then the frozen sandbox worker.
    await waitPaused(`runAction-call-${first}`, 0);
    await kill('orchestrator');
    await kill('temporal');
    up();
    const mark = stack.log('sandbox').length;
    await kill('sandbox');
    up(`runAction-call-${second}`);
    // Round 2: the server alone, then the frozen sandbox worker again.
    await waitPaused(`runAction-call-${second}`, mark);
    await kill('temporal');
    up();
    await kill('sandbox');
    up();

    const summary = await result(id);
    const steps = await stepsOf(summary);
    const view = (s: StepRecord[]) => s.map((x) => ({ action: x.action?.name, input: x.action?.input, kind: x.kind, metric: x.metricAfter, reward: x.reward }));
    assert.deepEqual(view(steps), view(reference), 'the same steps, once each, with the same outcomes');
    assert.equal(summary.endReason, 'final_answer');
    for (const s of steps) if (s.snapshotAfter) await store.get(s.snapshotAfter); // each re-verified by hash
    const history = (await (await client()).workflow.getHandle(id).fetchHistory()).events ?? [];
    const retried = history.filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    assert.ok(retried.length >= 2, 'both frozen actions were retried');
    const left = await dockerClient().listContainers({ all: true, filters: { label: [`mlagent.episode=${id}`] } });
    assert.equal(left.length, 0, 'no container of the episode is left');
  } finally {
    stack.down();
  }
});
