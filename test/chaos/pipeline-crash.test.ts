import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startChaosStack, type ChaosStack } from '../helpers/dev-stack';
import { chaosPipelineInput, leftContainers, pipelineCounts, runWithCrashes, seededRounds } from '../helpers/pipeline-chaos';

/**
 * kill -9 of every process kind of the dev stack (orchestrator, sandbox worker, model worker, Temporal dev server
 * restarted on its SQLite file) during one smoke pipeline (collect 2 tasks → SFT → 1 PPO iteration → evaluation),
 * at fault points chosen by MLAGENT_CHAOS_SEED: the run must count exactly the episodes, trajectory steps, SFT steps,
 * PPO iterations and evaluation episodes of an undisturbed run, every artifact re-verified, no container left.
 */
const SEED = Number(process.env.MLAGENT_CHAOS_SEED ?? 1);
let stack: ChaosStack | undefined;
after(() => stack?.down());

test('kill -9 of the orchestrator, sandbox worker, model worker and Temporal server during the smoke pipeline: the same work, once each', { timeout: 1_100_000 }, async () => {
  stack = await startChaosStack('pipeline-chaos');
  const s = stack;
  process.env.MLAGENT_HOME = s.home; // the artifacts are read from the stack's store
  const input = chaosPipelineInput();
  let t0 = Date.now();
  const reference = await pipelineCounts((await runWithCrashes({ stack: s, input, rounds: [], id: `pipeline-chaos-ref-${Date.now()}` })).result);
  console.log(`undisturbed run: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${JSON.stringify(reference)}`);

  const rounds = seededRounds({ seed: SEED, sftSteps: reference.sftSteps });
  console.log(`seed ${SEED}: ${rounds.map((r) => `${r.kill.join(' + ')} killed at ${r.point}`).join('; ')}`);
  t0 = Date.now();
  const { result, kills } = await runWithCrashes({ stack: s, input, rounds, id: `pipeline-chaos-${Date.now()}` });
  console.log(`disturbed run: ${((Date.now() - t0) / 1000).toFixed(0)} s, kills: ${kills.join(', ')}, SFT resumed from step ${result.sft?.resumedFromStep}`);
  assert.deepEqual([...new Set(kills)].sort(), ['model', 'orchestrator', 'sandbox', 'temporal'], 'every process kind was killed');
  assert.deepEqual(await pipelineCounts(result), reference, 'the same episodes, steps and iterations, none duplicated or lost');
  // Frozen at step b (after its checkpoint, but none after the last step): the retry goes on from there.
  const frozenStep = Number(rounds[1].point.replace('sft-step-', ''));
  assert.equal(result.sft!.resumedFromStep, Math.min(frozenStep, reference.sftSteps - 1), 'SFT resumed from the frozen step\'s checkpoint');
  assert.deepEqual(await leftContainers(s), [], 'no container of the stack\'s sandbox host is left');
});
