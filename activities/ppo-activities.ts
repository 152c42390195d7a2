import { ApplicationFailure } from '@temporalio/activity';
import type { ArtifactRef } from '../core/artifact-ref';
import { PoolState } from '../core/collect-schema';
import type { PpoIterationMetrics } from '../core/ppo-schema';
import { stratifiedSample } from '../core/ppo-sampling';
import { promptState, type PromptState } from '../core/prompt';
import { ArtifactStore } from './artifact-store';
import { loadTaskOrFail } from './tasks/registry';

/** A pool state as PPO acts from it: where to restore the workspace, m_t, and what the policy's prompt shows. */
export interface PpoStartState {
  task: string;
  episodeId: string;
  step: number;
  snapshot: ArtifactRef;
  metric: number | null;
  promptState: PromptState;
}

/** Orchestrator activities of the `ppo` workflow: sampling start states, keeping the metrics log. */
export function createPpoActivities(p: { store?: ArtifactStore } = {}) {
  const store = p.store ?? new ArtifactStore();
  /** A malformed or empty pool stays so: fail the run instead of retrying. */
  async function readPool(ref: ArtifactRef): Promise<PoolState[]> {
    const lines = (await store.get(ref)).toString('utf8').split('\n').filter(Boolean);
    const pool = lines.map((l, i) => {
      const parsed = PoolState.safeParse(JSON.parse(l));
      if (!parsed.success) throw ApplicationFailure.nonRetryable(`states pool line ${i + 1}: ${parsed.error.message}`, 'InvalidStatesPool');
      return parsed.data;
    });
    if (pool.length === 0) throw ApplicationFailure.nonRetryable('the states pool is empty', 'InvalidStatesPool');
    return pool;
  }
  return {
    /** The tasks the pool's states belong to, sorted. */
    async ppoPoolTasks(a: { statesPool: ArtifactRef }): Promise<string[]> {
      return [...new Set((await readPool(a.statesPool)).map((s) => s.task))].sort();
    },

    /**
     * `count` states of the pool, stratified by task (core/ppo-sampling.ts), with their prompt states; with
     * `initialOnly`, of its episodes' first states only (where episodic PPO starts).
     */
    async ppoSampleStates(a: { statesPool: ArtifactRef; count: number; seed: number; initialOnly?: boolean }): Promise<PpoStartState[]> {
      const pool = (await readPool(a.statesPool)).filter((s) => !a.initialOnly || s.step === 0);
      if (pool.length === 0) throw ApplicationFailure.nonRetryable('the states pool has no initial (step 0) states', 'InvalidStatesPool');
      return stratifiedSample({ groups: pool.map((s) => s.task), count: a.count, seed: a.seed }).map((i) => {
        const s = pool[i];
        const state = promptState({ researchProblem: loadTaskOrFail(s.task).researchProblem, seedIdeas: s.seedIdeas, history: s.history });
        return { task: s.task, episodeId: s.episodeId, step: s.step, snapshot: s.snapshot, metric: s.metric, promptState: state };
      });
    },

    /** The metrics log with `iterations` appended (JSONL, one iteration a line). */
    async ppoAppendMetrics(a: { log?: ArtifactRef; iterations: PpoIterationMetrics[] }): Promise<ArtifactRef> {
      const before = a.log ? (await store.get(a.log)).toString('utf8') : '';
      return store.put(before + a.iterations.map((m) => JSON.stringify(m) + '\n').join(''), 'ppo-metrics');
    },
  };
}

export type PpoActivities = ReturnType<typeof createPpoActivities>;
