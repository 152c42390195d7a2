import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArtifactStore } from '../../activities/artifact-store';
import { renderStatePrompt } from '../../activities/model/policy-act';
import { Sandbox } from '../../activities/sandbox/sandbox';
import { prepareTask } from '../../activities/tasks/prepare';
import { loadTask } from '../../activities/tasks/registry';
import type { ArtifactRef } from '../../core/artifact-ref';
import type { PoolState } from '../../core/collect-schema';
import type { PpoInput } from '../../core/ppo-schema';
import { promptState } from '../../core/prompt';
import { initBackend } from '../../model/backend';
import { PromptRenderer } from '../../model/chat-prompt';
import { checkpointFiles, putCheckpoint } from '../../model/checkpoint';
import { continuationBatch } from '../../model/generate';
import { AdamW } from '../../model/optim';
import { Qwen2Model } from '../../model/qwen2';
import { trainStep } from '../../model/sft-trainer';
import { tinyConfig, tinyTokenizer } from '../model/fixtures';

export const PPO_FIXTURE_TASK = 'co2';
const MAX_NEW_TOKENS = 64;
const ACTION = 'Thought: look\nAction: List Files\nAction Input: {"dir_path": "."}';

export interface PpoFixture {
  statesPool: ArtifactRef;
  checkpoint: ArtifactRef;
  /** A small ppo input on the fixture (B=2, n=1, minibatch 2), with `over` on top. */
  input(over?: Partial<PpoInput>): PpoInput;
}

/**
 * A real pool of two states (the co2 starter workspace, in the store of MLAGENT_HOME) and a tiny policy taught to
 * answer its prompt with a valid `List Files`, so sampled actions really run in the sandbox (an untrained model
 * writes only invalid ones). Deterministic: the same pool and checkpoint refs every time.
 */
export async function ppoFixture(): Promise<PpoFixture> {
  await initBackend();
  const store = new ArtifactStore();
  const sandbox = await Sandbox.create({ workspaceDir: (await prepareTask(PPO_FIXTURE_TASK)).publicDir, labels: { 'mlagent.test': `ppo-${process.pid}` } });
  let snapshot;
  try {
    snapshot = await store.put(await sandbox.snapshot(), 'workspace-snapshot');
  } finally {
    await sandbox.destroy();
  }
  const spec = loadTask(PPO_FIXTURE_TASK);
  const state: PoolState = { task: PPO_FIXTURE_TASK, episodeId: 'fixture', step: 0, seedIdeas: [], history: [], snapshot, metric: spec.m_init, expertResponse: ACTION };
  const statesPool = await store.put([0, 1].map((step) => JSON.stringify({ ...state, step }) + '\n').join(''), 'states-pool');

  const tokenizer = tinyTokenizer();
  // Positions for the whole prompt: its instructions and task are never cut (about 1500 tiny-tokenizer tokens).
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tokenizer.vocabSize, max_position_embeddings: 2048 }), 3);
  const prompt = renderStatePrompt({ model, renderer: new PromptRenderer(tokenizer), state: promptState({ ...spec, seedIdeas: [], history: [] }), maxNewTokens: MAX_NEW_TOKENS });
  const batch = continuationBatch([{ prompt: tokenizer.encode(prompt), continuation: [...tokenizer.encode(ACTION), tokenizer.eosId] }]);
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0 });
  let loss = Infinity;
  for (let i = 0; i < 500 && loss > 0.003; i++) loss = (await trainStep({ model, optimizer, batch, lr: 3e-3, clipNorm: 1 })).loss;
  assert.ok(loss <= 0.003, `the fixture policy memorised its action (loss ${loss})`);
  const checkpoint = await putCheckpoint(store, checkpointFiles(model, tokenizer));
  optimizer.dispose();
  model.dispose();
  return {
    statesPool,
    checkpoint,
    input: (over = {}) => ({ statesPool, checkpoint, statesPerIteration: 2, actionsPerState: 1, minibatchSize: 2, maxNewTokens: MAX_NEW_TOKENS, lrActor: 1e-4, ...over }),
  };
}

/**
 * A fresh MLAGENT_HOME (a temp dir named after `name`) holding one random tiny policy checkpoint: what the
 * in-process ppoUpdate tests start from.
 */
export async function tinyPolicyHome(p: { name: string; seed: number }) {
  process.env.MLAGENT_HOME = fs.mkdtempSync(path.join(os.tmpdir(), `mlagent-${p.name}-`));
  await initBackend();
  const store = new ArtifactStore();
  const tokenizer = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tokenizer.vocabSize }), p.seed);
  const checkpoint = await putCheckpoint(store, checkpointFiles(model, tokenizer));
  model.dispose();
  return { store, tokenizer, checkpoint };
}
