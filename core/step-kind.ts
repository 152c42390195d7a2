import type { StepKind } from './episode-schema';

/** The resource limits a script run can hit (sandbox time limit, cgroup memory limit, the workspace's size). */
export type ResourceLimit = 'timeout' | 'out_of_memory' | 'disk_full';

/**
 * An edit's kind once its workspace was scored. The paper (§3.3) rewards a run that hit a resource limit
 * as a corner case (0.5): the edit may be fine but the budget is not, which is not a failed execution. Any
 * other unscored evaluation leaves the edit an edit, and the reward module turns its missing metric into 0.
 */
export function kindAfterEvaluation(kind: StepKind, evaluation: { resourceLimit?: ResourceLimit }): StepKind {
  return kind === 'edit' && evaluation.resourceLimit ? 'corner_case' : kind;
}
