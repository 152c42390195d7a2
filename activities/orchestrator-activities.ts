import { ApplicationFailure } from '@temporalio/activity';
import { STARTER_SCRIPT, type AgentSpec, type HistoryEntry, type SeedIdea, type StepRecord } from '../core/episode-schema';
import type { ArtifactRef } from '../core/artifact-ref';
import { ArtifactStore } from './artifact-store';
import { scriptedExpertResponse } from './agents/scripted-expert';
import { TaskBestStore } from './task-best';
import { loadTask } from './tasks/registry';

export interface TaskInfo {
  name: string;
  script: string;
  metricName: string;
  higherIsBetter: boolean;
  mInit: number;
  mBest: number;
  scriptTimeoutSec: number;
  researchProblem: string;
}

/** Compact step as the workflow keeps it; the full state history is rebuilt when the trajectory is written. */
export type CompactStep = Omit<StepRecord, 'state'> & { state: { snapshot: ArtifactRef; metric: number | null } };

/** Light activities of the orchestrator queue: task metadata, the scripted agent, trajectory storage. */
export function createOrchestratorActivities(p: { store?: ArtifactStore } = {}) {
  const store = p.store ?? new ArtifactStore();
  const best = new TaskBestStore();
  return {
    async taskInfo(a: { task: string }): Promise<TaskInfo> {
      let t;
      try {
        t = loadTask(a.task);
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, 'UnknownTask');
      }
      return {
        name: t.name,
        script: STARTER_SCRIPT,
        metricName: t.metric.name,
        higherIsBetter: t.metric.direction === 'higher',
        mInit: t.m_init,
        mBest: best.effectiveBest({ task: t.name, shipped: t.m_best, higherIsBetter: t.metric.direction === 'higher' }),
        scriptTimeoutSec: t.scriptTimeoutSec,
        researchProblem: t.researchProblem,
      };
    },

    async decideAction(a: { agent: AgentSpec; task: TaskInfo; step: number; history: HistoryEntry[]; seedIdeas: SeedIdea[]; seed: number }): Promise<{ response: string }> {
      const { step, history, seedIdeas, seed } = a;
      return { response: scriptedExpertResponse({ step, history, seedIdeas, seed, script: a.task.script, higherIsBetter: a.task.higherIsBetter }) };
    },

    /** JSONL, one full StepRecord per line (state history included, so each line is a self-contained RL state). */
    async writeTrajectory(a: { episodeId: string; task: string; seedIdeas: SeedIdea[]; steps: CompactStep[] }): Promise<ArtifactRef> {
      const seedIdeas = a.seedIdeas.map(({ id, text }) => ({ id, text }));
      const history: HistoryEntry[] = [];
      const lines = a.steps.map((s) => {
        const full: StepRecord = { ...s, state: { ...s.state, history: [...history] } };
        history.push({ response: s.response, observation: s.observation });
        return JSON.stringify({ episodeId: a.episodeId, task: a.task, seedIdeas, ...full });
      });
      return store.put(lines.join('\n') + '\n', 'trajectory');
    },
  };
}

export type OrchestratorActivities = ReturnType<typeof createOrchestratorActivities>;
