import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { createIdeaActivities } from '../../activities/ideas/activities';
import { ArtifactStore } from '../../activities/artifact-store';
import { meanPairwiseDistance } from '../../core/diversity';
import { seededRandom } from '../../core/rng';
import { IdeaEmbeddings, IdeaSet, type GenerateIdeasInput } from '../../core/ideas';
import type { generateIdeas } from '../../workflows/ideas';
import { startLocalTemporal } from '../../temporal-config/local-server';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const store = new ArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-ideas-test-')));
const taskQueue = `ideas-test-${process.pid}`;

before(async () => {
  env = await startLocalTemporal();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../workflows/ideas'),
    activities: createIdeaActivities({ store, llm: null }),
  });
  running = worker.run();
});

after(async () => {
  worker.shutdown();
  await running;
  await env.teardown();
  fs.rmSync(store.root, { recursive: true, force: true });
});

let runs = 0;
const start = (input: GenerateIdeasInput) =>
  env.client.workflow.start<typeof generateIdeas>('generateIdeas', { args: [input], taskQueue, workflowId: `ideas-test-${process.pid}-${++runs}` });

test('generateIdeas: 10 diverse ideas from ≥100 offline candidates, stored as an artifact and shown in current details', async () => {
  const handle = await start({ task: 'wa_churn', k: 10, seed: 1 });
  const result = await handle.result();
  assert.equal(result.source, 'bank');
  assert.match(result.embedder, /tfidf/);
  assert.ok(result.candidateCount >= 100, `${result.candidateCount} candidates`);
  assert.equal(result.chosen.length, 10);
  assert.equal(new Set(result.chosen.map((i) => i.id)).size, 10);
  for (const idea of result.chosen) assert.ok(idea.edits?.[0]?.edits.length, `${idea.id} carries its edits`);

  const stored = IdeaSet.parse(await store.getJson(result.ideaSet));
  assert.deepEqual(stored.chosen.map((i) => i.id), result.chosen.map((i) => i.id));
  assert.equal(stored.candidateCount, result.candidateCount);
  assert.ok(stored.diversity.chosen > stored.diversity.allCandidates, 'chosen ideas are more spread out than the pool');

  const meta = await handle.query(workflowMetadataQuery);
  for (const idea of result.chosen) assert.ok(meta.currentDetails?.includes(idea.title), `current details show "${idea.title}"`);
  assert.match(meta.currentDetails ?? '', /built-in idea bank \(no LLM configured\)/);

  // Diversity on the real candidate embeddings: the selection beats random 10-subsets.
  const { vectors } = IdeaEmbeddings.parse(await store.getJson(stored.embeddings));
  const rand = seededRandom(5);
  const randomMeans = Array.from({ length: 300 }, () => {
    const pick = new Set<number>();
    while (pick.size < 10) pick.add(Math.floor(rand() * vectors.length));
    return meanPairwiseDistance([...pick].map((i) => vectors[i]!));
  });
  const beaten = randomMeans.filter((m) => m < stored.diversity.chosen).length / randomMeans.length;
  const avg = randomMeans.reduce((s, m) => s + m, 0) / randomMeans.length;
  console.log(`diversity (wa_churn ideas, TF-IDF): chosen ${stored.diversity.chosen.toFixed(3)}, random 10-sets ${avg.toFixed(3)} on average; beats ${(beaten * 100).toFixed(1)}% of 300`);
  assert.ok(beaten >= 0.95, `the chosen set should beat ≥95% of random sets, beat ${beaten}`);
});

test('generateIdeas is deterministic for a seed (same ideas, same artifact)', async () => {
  const a = await (await start({ task: 'small_fine_foods', seed: 7 })).result();
  const b = await (await start({ task: 'small_fine_foods', seed: 7 })).result();
  assert.deepEqual(b.chosen.map((i) => i.id), a.chosen.map((i) => i.id));
  assert.equal(b.ideaSet.sha256, a.ideaSet.sha256);
  const c = await (await start({ task: 'small_fine_foods', seed: 8 })).result();
  assert.notDeepEqual(c.chosen.map((i) => i.id), a.chosen.map((i) => i.id), 'another seed starts elsewhere');
});

async function failure(input: unknown): Promise<ApplicationFailure> {
  const handle = await start(input as GenerateIdeasInput);
  const err = await handle.result().then(() => assert.fail('workflow should fail'), (e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  let cause: unknown = err.cause;
  while (!(cause instanceof ApplicationFailure) && cause instanceof Error && cause.cause) cause = cause.cause;
  assert.ok(cause instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(cause)}`);
  assert.equal(cause.nonRetryable, true);
  return cause;
}

test('generateIdeas rejects bad input naming the field, and an unknown task naming it', async () => {
  assert.match((await failure({ task: 'wa_churn', k: 0 })).message, /invalid generateIdeas input: k:/);
  assert.match((await failure({ task: 'wa_churn', kk: 3 })).message, /kk/);
  assert.match((await failure({ task: 'no_such_task' })).message, /unknown task 'no_such_task'/);
});
