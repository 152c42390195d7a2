import type { SearchAttributeUpdatePair, Workflow, WorkflowResultType } from '@temporalio/common';
import {
  condition, defineQuery, defineSignal, executeChild, getExternalWorkflowHandle, patched, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import type { FinishedChildActivities } from '../activities/finished-child';
import type { ArtifactRef } from '../core/artifact-ref';
import { pipelineEvaluationAgents } from '../core/evaluation';
import { evaluationMarkdown } from '../core/evaluation-table';
import { needsCollection, PipelineInput, type CollectedRefs } from '../core/pipeline-schema';
import { MLAGENT_BEST_SCORE, MLAGENT_PIPELINE_STAGE, MLAGENT_PPO_ITERATION, MLAGENT_STAGE } from '../core/search-attributes';
import type { SftResult } from '../model/sft-params';
import { collectTrajectories, type CollectResult } from './collect';
import { ppo, stopPpoSignal, type PpoResult } from './ppo';
import { evaluate, type EvaluateResult } from './evaluate';
import { sft } from './sft';
import { parseWorkflowInput } from './validate-input';

const runs = proxyActivities<FinishedChildActivities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 5 } });

export interface PipelineResult {
  /**
   * Each stage's result when this run ran it, or an earlier run under the same id finished it from the same input
   * (absent when reused through `from`, not needed, or stopped before).
   */
  collect?: CollectResult;
  sft?: SftResult;
  ppo?: PpoResult;
  evaluate?: EvaluateResult;
  /** What the later stages used: a new run's `from` takes these. */
  refs: { collect?: CollectedRefs; sftCheckpoint?: ArtifactRef; policy?: ArtifactRef };
  /** A `stop` signal ended the run before its last stage. */
  stopped: boolean;
}

export const PIPELINE_STAGES = ['collect', 'sft', 'ppo', 'evaluate'] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number];
export interface StageProgress {
  status: 'pending' | 'running' | 'done' | 'reused' | 'skipped' | 'stopped';
  /** The stage's child workflow (query its own `progress` for live counts). */
  workflowId?: string;
  counters: Record<string, number>;
}
export interface PipelineProgress {
  stage: PipelineStage | 'done';
  paused: boolean;
  stopRequested: boolean;
  stages: Record<PipelineStage, StageProgress>;
}
export const pipelineProgressQuery = defineQuery<PipelineProgress>('progress');
/** Holds the run before its next stage starts (the running one goes on) until `resume`. */
export const pausePipelineSignal = defineSignal('pause');
export const resumePipelineSignal = defineSignal('resume');
/** Ends the run after the stage in progress (a PPO stage after its current iteration); later stages do not start. */
export const stopPipelineSignal = defineSignal('stop');

/**
 * The training pipeline as one durable run: collection (ideas + expert episodes), exploration-enriched SFT, optionally
 * step-wise PPO from the SFT checkpoint on the collection's states pool (with the collection's reward scales), and
 * optionally a held-out evaluation of the trained policies. `from` reuses an earlier run's states pool or checkpoint
 * and skips the stages that made them. Child ids derive from the run's id, so a replayed run never redoes a stage, and
 * a new run under the id of an earlier one takes each stage that one finished from the same input.
 */
export async function trainPipeline(raw: PipelineInput): Promise<PipelineResult> {
  const input = parseWorkflowInput(PipelineInput, raw, 'trainPipeline');
  const id = workflowInfo().workflowId;
  // Known from the input: what `from` reuses and what is not asked for (or not needed) never runs.
  const planned: Record<PipelineStage, StageProgress['status']> = {
    collect: input.from?.collect ? 'reused' : needsCollection(input) ? 'pending' : 'skipped',
    sft: input.from?.sftCheckpoint ? 'reused' : 'pending',
    ppo: input.ppo ? 'pending' : 'skipped',
    evaluate: input.evaluate ? 'pending' : 'skipped',
  };
  const stages = Object.fromEntries(PIPELINE_STAGES.map((s) => [s, { status: planned[s], counters: {} }])) as Record<PipelineStage, StageProgress>;
  const progress: PipelineProgress = { stage: PIPELINE_STAGES[0], paused: false, stopRequested: false, stages };
  setHandler(pipelineProgressQuery, () => progress);
  setHandler(pausePipelineSignal, () => void (progress.paused = true));
  setHandler(resumePipelineSignal, () => void (progress.paused = false));
  setHandler(stopPipelineSignal, () => {
    progress.stopRequested = true;
    if (stages.ppo.status === 'running') void getExternalWorkflowHandle(`${id}/ppo`).signal(stopPpoSignal);
  });
  upsertSearchAttributes([{ key: MLAGENT_STAGE, value: 'pipeline' }]);
  // Runs recorded before the per-stage attributes existed replay without them (test/fixtures/histories).
  const tracked = patched('pipeline-stage-attributes');
  const show = (updates: SearchAttributeUpdatePair[]) => tracked && upsertSearchAttributes(updates);
  const attrs = (stage: string) => show([{ key: MLAGENT_PIPELINE_STAGE, value: stage }]);
  // A new run under the id of an earlier one takes the stages it finished (same child id, same input) instead of
  // redoing them; runs recorded before this replay without the look-up.
  const reuseFinished = patched('pipeline-reuse-finished-stages');

  /** Runs one stage as a child (or takes the same child's finished result), after any pause; undefined when a stop came first. */
  const runStage = async <W extends Workflow>(p: {
    stage: PipelineStage;
    details: string;
    workflow: W;
    args: Parameters<W>;
    counters: (r: WorkflowResultType<W>) => Record<string, number>;
  }): Promise<WorkflowResultType<W> | undefined> => {
    if (progress.paused) {
      attrs('paused');
      setCurrentDetails(`paused before ${p.stage}: signal \`resume\` to go on, \`stop\` to end here`);
      await condition(() => !progress.paused || progress.stopRequested);
    }
    if (progress.stopRequested) return undefined;
    const workflowId = `${id}/${p.stage}`;
    const finished = reuseFinished ? await runs.finishedChild({ workflowId, input: p.args[0] }) : null;
    if (finished) {
      const result = finished.result as WorkflowResultType<W>;
      Object.assign(stages[p.stage], { status: 'reused', workflowId, counters: p.counters(result) });
      return result;
    }
    Object.assign(stages[p.stage], { status: 'running', workflowId });
    progress.stage = p.stage;
    attrs(p.stage);
    setCurrentDetails(p.details);
    // widened: the compiler cannot resolve executeChild's argument types for a generic W (the call sites are typed)
    const result = (await executeChild(p.workflow as Workflow, { workflowId, args: p.args })) as WorkflowResultType<W>;
    Object.assign(stages[p.stage], { status: 'done', counters: p.counters(result) });
    return result;
  };

  let collected: CollectResult | undefined;
  let pool = input.from?.collect;
  if (planned.collect === 'pending') {
    collected = await runStage({
      stage: 'collect',
      details: 'stage 1–2: diverse ideas and expert trajectories…',
      workflow: collectTrajectories,
      args: [input.collect!],
      counters: (r) => ({ episodes: r.episodes.length, ok: r.episodes.filter((e) => e.ok).length, states: r.counts.states, sftPairs: r.counts.sftPairs }),
    });
    if (collected) {
      const { trajectories, statesPool, sft: sftSet, sharegpt, counts, rewardScales } = collected;
      pool = { trajectories, statesPool, sft: sftSet, sharegpt, counts, rewardScales };
    }
  }

  let trained: SftResult | undefined;
  let checkpoint = input.from?.sftCheckpoint;
  if (!checkpoint && pool) {
    const dataset = pool.sft;
    trained = await runStage({
      stage: 'sft',
      details: `stage 3: SFT on ${pool.counts.sftPairs} (state → expert action) pairs…`,
      workflow: sft,
      args: [{ ...input.sft, dataset }],
      counters: (r) => ({ steps: r.steps }),
    });
    checkpoint = trained?.checkpoint;
  }

  let tuned: PpoResult | undefined;
  if (input.ppo && pool && checkpoint) {
    const [ppoInput, statesPool, start, rewardScales] = [input.ppo, pool.statesPool, checkpoint, pool.rewardScales];
    tuned = await runStage({
      stage: 'ppo',
      details: `stage 4: step-wise PPO on ${pool.counts.states} expert states…`,
      workflow: ppo,
      args: [{ ...ppoInput, statesPool, checkpoint: start, rewardScales }],
      counters: (r) => ({ iterations: r.iterations }),
    });
    if (tuned) show([{ key: MLAGENT_PPO_ITERATION, value: tuned.iterations }]);
  }

  let evaluated: EvaluateResult | undefined;
  // A stop sent to the PPO child ends PPO only; the pipeline's own stop (forwarded to the child) ends the pipeline.
  // Runs recorded before this skipped the evaluation after any stopped PPO.
  const childStopEndsPpoOnly = patched('ppo-child-stop-ends-ppo-only');
  if (input.evaluate && checkpoint && (childStopEndsPpoOnly || !tuned?.stopped)) {
    const { tasks, k, concurrency, limits } = input.evaluate;
    const base = !trained || trained.base.kind === 'fresh' ? undefined : trained.base.checkpoint;
    const agents = pipelineEvaluationAgents({ evaluate: input.evaluate, base, sft: checkpoint, ppo: tuned?.policy });
    evaluated = await runStage({
      stage: 'evaluate',
      details: `stage 5: held-out evaluation on ${tasks.length} task(s)…`,
      workflow: evaluate,
      args: [{ tasks, k, concurrency, limits, agents }],
      counters: (r) => ({ rows: r.scores.length }),
    });
    const gains = Object.values(evaluated?.agents ?? {}).flatMap((a) => a.meanRelativeGain ?? []);
    if (gains.length) show([{ key: MLAGENT_BEST_SCORE, value: Math.max(...gains) }]);
  }

  // Only a stop leaves a planned stage unstarted.
  for (const s of PIPELINE_STAGES) if (stages[s].status === 'pending') stages[s].status = 'stopped';
  const stopped = PIPELINE_STAGES.some((s) => stages[s].status === 'stopped') || (!childStopEndsPpoOnly && !!tuned?.stopped);
  progress.stage = 'done';
  attrs(stopped ? 'stopped' : 'done');
  setCurrentDetails(
    [
      ...(stopped ? ['**stopped** by signal after the stage in progress'] : []),
      ...(collected ? [`collected ${collected.episodes.filter((e) => e.ok).length}/${collected.episodes.length} episodes, ${collected.counts.states} states`] : []),
      ...(pool && !collected ? [`reused states pool \`${pool.statesPool.sha256}\` (${pool.counts.states} states)`] : []),
      ...(trained ? [`SFT: ${trained.steps} steps, final loss ${trained.finalLoss.toFixed(4)}${trained.heldOutLoss ? `, held-out loss ${trained.heldOutLoss.before.toFixed(4)} → ${trained.heldOutLoss.after.toFixed(4)}` : ''}`] : []),
      ...(checkpoint ? [`${trained ? '' : 'reused '}checkpoint \`${checkpoint.sha256}\``] : []),
      ...(tuned ? [`PPO: ${tuned.iterations} iterations${tuned.stopped ? ' (stopped early by a signal)' : ''}, policy \`${tuned.policy.sha256}\``] : []),
      ...(evaluated ? [`held-out evaluation:\n\n${evaluationMarkdown(evaluated)}`] : []),
    ].join('\n\n'),
  );
  return { collect: collected, sft: trained, ppo: tuned, evaluate: evaluated, refs: { collect: pool, sftCheckpoint: checkpoint, policy: tuned?.policy }, stopped };
}
