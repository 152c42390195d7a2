import { executeChild, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { PipelineInput } from '../core/pipeline-schema';
import { MLAGENT_STAGE } from '../core/search-attributes';
import type { SftResult } from '../model/sft-params';
import { collectTrajectories, type CollectResult } from './collect';
import { evaluate, type EvaluateResult } from './evaluate';
import { sft } from './sft';
import { parseWorkflowInput } from './validate-input';

export interface PipelineResult {
  collect: CollectResult;
  sft: SftResult;
  evaluate?: EvaluateResult;
}

/** The training pipeline as one durable run: collection (ideas + expert episodes), then exploration-enriched SFT. */
export async function trainPipeline(raw: PipelineInput): Promise<PipelineResult> {
  const input = parseWorkflowInput(PipelineInput, raw, 'trainPipeline');
  const id = workflowInfo().workflowId;
  upsertSearchAttributes([{ key: MLAGENT_STAGE, value: 'pipeline' }]);
  setCurrentDetails('stage 1–2: diverse ideas and expert trajectories…');
  const collected = await executeChild(collectTrajectories, { workflowId: `${id}/collect`, args: [input.collect] });
  setCurrentDetails(`stage 3: SFT on ${collected.counts.sftPairs} (state → expert action) pairs…`);
  const trained = await executeChild(sft, { workflowId: `${id}/sft`, args: [{ ...input.sft, dataset: collected.sft }] });
  let evaluated: EvaluateResult | undefined;
  if (input.evaluate) {
    setCurrentDetails(`stage 5: the policy against the scripted baseline on ${input.evaluate.tasks.length} held-out task(s)…`);
    evaluated = await executeChild(evaluate, {
      workflowId: `${id}/evaluate`,
      args: [
        {
          ...input.evaluate,
          agents: [
            { name: 'scripted', agent: { kind: 'scripted' } },
            { name: 'policy', agent: { kind: 'policy', checkpoint: trained.checkpoint } },
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
      ...(evaluated ? Object.entries(evaluated.agents).map(([name, a]) => `${name}: mean relative gain ${(a.meanRelativeGain * 100).toFixed(2)}% on held-out tasks`) : []),
    ].join('\n\n'),
  );
  return { collect: collected, sft: trained, evaluate: evaluated };
}
