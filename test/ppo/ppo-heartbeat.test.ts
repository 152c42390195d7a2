import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ppoUpdate } from '../../activities/model/ppo';
import { PpoUpdateHyper } from '../../core/ppo-schema';
import { tinyPolicyHome } from './fixture';

/**
 * A pass of the 135M default blocks the event loop for up to a minute, and the default update holds dozens of them:
 * a heartbeat between every two passes is what keeps the update inside its heartbeat timeout, whatever the machine.
 */
test('ppoUpdate heartbeats before every forward/backward pass: each prompt group scored (old, reference) and trained', { timeout: 120_000 }, async () => {
  const { store, tokenizer, checkpoint: policy } = await tinyPolicyHome({ name: 'ppo-hb', seed: 3 });
  // three states with two actions each, as a step-wise batch: three prompt groups
  const rows = ['Thought: list', 'Thought: read', 'Thought: run'].flatMap((p) =>
    ['Action: List Files', 'Action: Final Answer'].map((a) => ({ prompt: tokenizer.encode(p), continuation: tokenizer.encode(a) })),
  );
  const rollouts = await store.putJson({ rows }, 'ppo-rollouts');
  const env = new MockActivityEnvironment();
  const beats: { step: number; phase: string }[] = [];
  env.on('heartbeat', (d: { step: number; phase: string }) => beats.push(d));
  // minibatches of 4 rows: groups {a, b} and {c} in shuffled order, so each epoch has 3 passes in 2 steps
  const hyper = PpoUpdateHyper.parse({ epochs: 2, minibatchSize: 4 });
  await env.run(ppoUpdate, { policy, reference: policy, rollouts, rewards: [1, 0, 0.5, 0.5, 0, 1], hyper, seed: 1 });
  const count = (phase: string) => beats.filter((b) => b.phase === phase).length;
  assert.equal(count('old log-probs'), 3, JSON.stringify(beats));
  assert.equal(count('reference log-probs'), 3, JSON.stringify(beats));
  // after each of the 2 × 3 passes, and after each of the 2 × 2 steps
  assert.equal(count('update'), 6 + 4, JSON.stringify(beats));
  assert.deepEqual([...new Set(beats.filter((b) => b.phase === 'update').map((b) => b.step))], [0, 1, 2, 3, 4]);
});
