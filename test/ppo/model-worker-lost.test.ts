import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ArtifactStore } from '../../activities/artifact-store';
import { loadTask } from '../../activities/tasks/registry';
import type { ArtifactRef } from '../../core/artifact-ref';
import type { PoolState } from '../../core/collect-schema';
import { failureMessage } from '../../core/failure-message';
import type { PpoInput } from '../../core/ppo-schema';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * SFT and PPO with no model worker polling: each stage fails once its model activity has waited
 * `modelWorkerLostAfterSec` to be picked up (a schedule-to-start timeout of the Temporal server, not retried), with
 * a message naming what is missing, instead of hanging for the activity's hours-long start-to-close timeout.
 */
const LOST_AFTER_SEC = 3;
const unused = (kind: string): ArtifactRef => ({ sha256: '0'.repeat(64), size: 1, kind });

describe('a stage whose model worker is missing fails, naming it', () => {
  let stack: TestStack;
  let statesPool: ArtifactRef;
  before(async () => {
    const task = loadTask('co2');
    // The states are sampled (orchestrator) but never acted on: the rollout waits for the model worker first.
    const state: PoolState = { task: task.name, episodeId: 'lost', step: 0, seedIdeas: [], history: [], snapshot: unused('workspace-snapshot'), metric: task.m_init, expertResponse: '' };
    statesPool = await new ArtifactStore().put(JSON.stringify(state) + '\n', 'states-pool');
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.stop();
  });

  const failureOf = async (workflowType: string, input: unknown): Promise<unknown> => {
    const handle = await stack.env.client.workflow.start(workflowType, { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `lost-${workflowType}-${Date.now()}`, args: [input] });
    return handle.result().then(
      () => assert.fail(`${workflowType} completed without a model worker`),
      (err: unknown) => err,
    );
  };
  const assertModelWorkerLost = (err: unknown, activity: string) => {
    assert.match(failureMessage(err), new RegExp(`no model worker picked up ${activity} within ${LOST_AFTER_SEC} s: .*polling task queue mlagent-model`));
    const cause = (err as { cause?: unknown }).cause;
    assert.ok(cause instanceof ApplicationFailure, `${String(cause)}`);
    assert.deepEqual([cause.type, cause.nonRetryable], ['ModelWorkerUnavailable', true]);
  };

  test('SFT', { timeout: 60_000 }, async () => {
    assertModelWorkerLost(await failureOf('sft', { dataset: unused('sft-dataset'), modelWorkerLostAfterSec: LOST_AFTER_SEC }), 'sftTrain');
  });

  for (const mode of ['stepwise', 'episodic'] as const) {
    test(`PPO, ${mode}`, { timeout: 60_000 }, async () => {
      const input: PpoInput = { statesPool, checkpoint: unused('checkpoint'), mode, iterations: 1, statesPerIteration: 1, modelWorkerLostAfterSec: LOST_AFTER_SEC };
      assertModelWorkerLost(await failureOf('ppo', input), 'ppoRollout');
    });
  }
});
