import type { ArtifactRef } from '../core/artifact-ref';
import type { DatasetRefs, PoolState } from '../core/collect-schema';
import type { StepRecord, SeedIdea } from '../core/episode-schema';
import { type ChatMessage, type PromptState, promptMessages, promptState } from '../core/prompt';
import { ArtifactStore } from './artifact-store';
import { TaskBestStore } from './task-best';
import { loadTask } from './tasks/registry';

type TrajectoryLine = StepRecord & { episodeId: string; task: string; seedIdeas: Pick<SeedIdea, 'id' | 'text'>[] };

/** Steps worth imitating: the expert's valid actions (invalid or failed ones teach the wrong thing). */
const IMITABLE = new Set(['non_edit', 'edit', 'corner_case']);

/** Orchestrator activities that turn trajectories into the states pool and the SFT dataset. */
export function createDatasetActivities(p: { store?: ArtifactStore; best?: TaskBestStore } = {}) {
  const store = p.store ?? new ArtifactStore();
  const best = p.best ?? new TaskBestStore();

  return {
    async buildDatasets(a: { trajectories: ArtifactRef[] }): Promise<DatasetRefs> {
      const problems = new Map<string, string>();
      const researchProblem = (task: string) => {
        if (!problems.has(task)) problems.set(task, loadTask(task).researchProblem);
        return problems.get(task)!;
      };
      const pool: PoolState[] = [];
      // Model-agnostic lines: the messages (whole history view) and the state they came from, which training
      // re-renders with the checkpoint's template and shortens to its token budget (model/sft-data.ts).
      const sft: { messages: ChatMessage[]; state: PromptState; task: string; episodeId: string; step: number }[] = [];
      const all: string[] = [];
      for (const ref of a.trajectories) {
        const text = (await store.get(ref)).toString('utf8').trim();
        if (!text) continue;
        all.push(text);
        for (const line of text.split('\n')) {
          const s = JSON.parse(line) as TrajectoryLine;
          if (!IMITABLE.has(s.kind) || !s.action) continue;
          pool.push({
            task: s.task,
            episodeId: s.episodeId,
            step: s.step,
            seedIdeas: s.seedIdeas,
            history: s.state.history,
            snapshot: s.state.snapshot,
            metric: s.state.metric,
            expertResponse: s.response,
          });
          const state = promptState({ researchProblem: researchProblem(s.task), seedIdeas: s.seedIdeas, history: s.state.history });
          const messages: ChatMessage[] = [...promptMessages(state), { role: 'assistant', content: s.response }];
          sft.push({ messages, state, task: s.task, episodeId: s.episodeId, step: s.step });
        }
      }
      const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
      const from = { system: 'system', user: 'human', assistant: 'gpt' } as const;
      const sharegpt = sft.map((r) => ({ conversations: r.messages.map((m) => ({ from: from[m.role], value: m.content })) }));
      return {
        trajectories: await store.put(all.join('\n') + (all.length ? '\n' : ''), 'trajectory-set'),
        statesPool: await store.put(jsonl(pool), 'states-pool'),
        sft: await store.put(jsonl(sft), 'sft-dataset'),
        sharegpt: await store.put(jsonl(sharegpt), 'sft-sharegpt'),
        counts: { trajectories: a.trajectories.length, states: pool.length, sftPairs: sft.length },
      };
    },

    /** Raises a task's m_best when an episode's scored metric beats it; returns the new best or null. */
    async raiseBestMetric(a: { task: string; metric: number; episodeId: string }): Promise<number | null> {
      const t = loadTask(a.task);
      const higherIsBetter = t.metric.direction === 'higher';
      return best.raise({ task: a.task, metric: a.metric, episodeId: a.episodeId, shipped: t.m_best, higherIsBetter }) ? a.metric : null;
    },
  };
}

export type DatasetActivities = ReturnType<typeof createDatasetActivities>;
