import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { loadedPolicies, policyFor } from '../../activities/model/policy-act';
import { ppoUpdate, type PpoUpdateResult } from '../../activities/model/ppo';
import { PpoUpdateHyper } from '../../core/ppo-schema';
import { tinyPolicyHome } from './fixture';

test('a PPO update drops the policy it supersedes from the acting cache, so past iterations\' policies do not pile up in the model worker', { timeout: 300_000 }, async () => {
  const { store, tokenizer, checkpoint: start } = await tinyPolicyHome({ name: 'ppo-cache', seed: 11 });
  const rows = ['Action: List Files', 'Action: Read File'].map((a) => ({ prompt: tokenizer.encode('Thought: next'), continuation: tokenizer.encode(a) }));
  const rollouts = await store.putJson({ rows }, 'ppo-rollouts');
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'ppo-cache', runId: 'r' } });
  let policy = start;
  let tensorsAfterFirst = 0;
  for (let it = 0; it < 3; it++) {
    await policyFor(policy); // what the iteration's rollout does
    assert.ok(loadedPolicies().includes(policy.sha256));
    const res = (await env.run(ppoUpdate, { policy, reference: start, rollouts, rewards: [0.5, 1], hyper: PpoUpdateHyper.parse({ minibatchSize: 2 }), seed: it })) as PpoUpdateResult;
    assert.ok(!loadedPolicies().includes(policy.sha256), `iteration ${it}: the superseded policy is no longer loaded`);
    policy = res.policy;
    if (it === 0) tensorsAfterFirst = tf.memory().numTensors;
    else assert.equal(tf.memory().numTensors, tensorsAfterFirst, `iteration ${it}: live tensors stay flat across updates`);
  }
});
