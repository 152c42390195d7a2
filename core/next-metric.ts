import type { StepKind } from './episode-schema';

/**
 * m_t after a step, from m_t before it: it moves when the code changed (to its evaluation, even a failed one) or
 * when a run was scored. Episodes and episodic PPO track the workspace's metric with it.
 */
export function nextMetric(step: { actionName?: string; kind: StepKind; metricAfter: number | null }, prev: number | null): number | null {
  const changed = step.actionName === 'Edit Script' || step.actionName === 'Edit Script (AI)' || step.actionName === 'Undo Edit Script';
  if (changed && step.kind !== 'error') return step.metricAfter;
  return step.metricAfter ?? prev;
}
