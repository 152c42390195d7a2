import { executeChild, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { PipelineInput } from '../core/pipeline-schema';
import { MLAGENT_STAGE } from '../core/search-attributes';
import type { SftResult } from '../model/sft-params';
import { collectTrajectories, type CollectResult } from './collect';
import { ppo, type PpoResult } from './ppo';
import { evaluate, type EvaluateResult } from './evaluate';
import { sft } from './sft';
import { parseWorkflowInput } from './validate-input';

export interface PipelineResult {
  collect: CollectResult;
  sft: SftResult;
  ppo?: PpoResult;
  evaluate?: EvaluateResult;
}

/**
 * The training pipeline as one durable run: collection (ideas + expert episodes), exploration-enriched SFT, optionally
 * step-wise PPO from the SFT checkpoint on the collection's states pool (with the collection's reward scales), and
 * optionally a held-out evaluation of the trained policies against the scripted baseline.
 */
export async function trainPipeline(raw: PipelineInput): Promise<PipelineResult> {
  const input = parseWorkflowInput(PipelineInput, raw, 'trainPipeline');
  const id = workflowInfo().workflowId;
  upsertSearchAttributes([{ key: MLAGENT_STAGE, value: 'pipeline' }]);
  setCurrentDetails('stage 1–2: diverse ideas and expert trajectories…');
  const collected = await executeChild(collectTrajectories, { workflowId: `${id}/collect`, args: [input.collect] });
  setCurrentDetails(`stage 3: SFT on ${collected.counts.sftPairs} (state → expert action) pairs…`);
  const trained = await executeChild(sft, { workflowId: `${id}/sft`, args: [{ ...input.sft, dataset: collected.sft }] });
  let tuned: PpoResult | undefined;
  if (input.ppo) {
    setCurrentDetails(`stage 4: step-wise PPO on ${collected.counts.states} expert states…`);
    tuned = await executeChild(ppo, {
      workflowId: `${id}/ppo`,
      args: [{ ...input.ppo, statesPool: collected.statesPool, checkpoint: trained.checkpoint, rewardScales: collected.rewardScales }],
    });
  }
  let evaluated: EvaluateResult | undefined;
  if (input.evaluate) {
    setCurrentDetails(`stage 5: the trained policies against the scripted baseline on ${input.evaluate.tasks.length} held-out task(s)…`);
    evaluated = await executeChild(evaluate, {
      workflowId: `${id}/evaluate`,
      args: [
        {
          ...input.evaluate,
          agents: [
            { name: 'scripted', agent: { kind: 'scripted' } },
            { name: 'policy', agent: { kind: 'policy', checkpoint: trained.checkpoint } },
            ...(tuned ? [{ name: 'policy+ppo', agent: { kind: 'policy' as const, checkpoint: tuned.policy } }] : []),
          ],
        },
      ],
    });
  }
  setCurrentDetails(
    [
      `collected ${collected.episodes.filter((e) => e.ok).length}/${collected.episodes.length} episodes, ${collected.counts.states} states`,
      `SFT: ${trained.steps} steps, final loss ${trained.finalLoss.toFixed(4)}${trained.heldOutLoss ? `, held-out loss ${trained.heldOutLoss.before.toFixed(4)} → ${trained.heldOutLoss.after.toFixed(4)}` : ''}`,
      `checkpoint \`${trained.checkpoint.sha256}\``,
      ...(tuned ? [`PPO: ${tuned.iterations} iterations, policy \`${tuned.policy.sha256}\``] : []),
      ...(evaluated ? Object.entries(evaluated.agents).map(([name, a]) => `${name}: mean relative gain ${(a.meanRelativeGain * 100).toFixed(2)}% on held-out tasks`) : []),
    ].join('\n\n'),
  );
  return { collect: collected, sft: trained, ppo: tuned, evaluate: evaluated };
}
