import { proxyActivities } from '@temporalio/workflow';
import type { TaskInfo } from '../activities/orchestrator-activities';
import type { EvaluateResult, RunActionResult, SandboxActivities } from '../activities/sandbox-activities';
import type { RewardScale, StepKind } from '../core/episode-schema';
import { SANDBOX_QUEUE } from '../core/queues';
import { computeReward } from '../core/reward';
import { kindAfterEvaluation } from '../core/step-kind';

const sandboxPool = proxyActivities<SandboxActivities>({
  taskQueue: SANDBOX_QUEUE,
  startToCloseTimeout: '20 minutes',
  heartbeatTimeout: '5 minutes',
  retry: { maximumAttempts: 5 },
});

export interface ScoredAction {
  kind: StepKind;
  metricAfter: number | null;
  reward: number;
  /** Present when the action changed the workspace, which was then scored. */
  evaluation?: EvaluateResult;
}

/**
 * The reward module on an executed action: a changed workspace is scored first (m_{t+1}, on any sandbox host),
 * and an edit whose scoring hit a resource limit counts as a corner case.
 */
export async function scoreAction(p: {
  task: Pick<TaskInfo, 'name' | 'higherIsBetter'>;
  rewardScale: RewardScale;
  /** m_t: the metric of the state the action was taken from. */
  metricBefore: number | null;
  actionName: string;
  result: Pick<RunActionResult, 'kind' | 'metricAfter' | 'workspaceChanged' | 'snapshotAfter'>;
  scriptTimeoutSec?: number;
}): Promise<ScoredAction> {
  let { kind, metricAfter } = p.result;
  let evaluation: EvaluateResult | undefined;
  if (p.result.workspaceChanged) {
    evaluation = await sandboxPool.evaluateWorkspace.executeWithOptions(
      { summary: `score workspace after ${p.actionName}` },
      [{ task: p.task.name, snapshot: p.result.snapshotAfter, scriptTimeoutSec: p.scriptTimeoutSec }],
    );
    metricAfter = evaluation.metric;
    kind = kindAfterEvaluation(kind, evaluation);
  }
  const { reward } = computeReward({
    action_kind: kind,
    m_prev: p.metricBefore,
    m_next: metricAfter,
    m_init: p.rewardScale.mInit,
    m_best: p.rewardScale.mBest,
    higher_is_better: p.task.higherIsBetter,
  });
  return { kind, metricAfter, reward, ...(evaluation && { evaluation }) };
}
