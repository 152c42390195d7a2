import { ApplicationFailure } from '@temporalio/activity';
import { STARTER_SCRIPT, type AgentSpec, type HistoryEntry, type RewardScale, type SeedIdea, type StepRecord } from '../core/episode-schema';
import type { ArtifactRef } from '../core/artifact-ref';
import type { LlmConfig, TokenUsage } from '../core/llm-schemas';
import { ArtifactStore } from './artifact-store';
import { llmAgentClient, llmExpertResponse } from './agents/llm-expert';
import { scriptedExpertResponse } from './agents/scripted-expert';
import { llmConfigFromEnv } from './llm/client';
import { TaskBestStore } from './task-best';
import { loadTaskOrFail } from './tasks/registry';

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

/**
 * Light activities of the orchestrator queue: task metadata, the scripted and LLM agents, trajectory storage.
 * `llm` (from the environment unless given; null = none) is the endpoint of the 'llm' agent.
 */
export function createOrchestratorActivities(p: { store?: ArtifactStore; llm?: LlmConfig | null } = {}) {
  const store = p.store ?? new ArtifactStore();
  const best = new TaskBestStore();
  const llmConfig = p.llm === undefined ? llmConfigFromEnv() : (p.llm ?? undefined);
  /** m_init as shipped, m_best the better of the shipped and the recorded one, as of now. */
  const rewardScaleOf = (t: ReturnType<typeof loadTaskOrFail>): RewardScale => ({
    mInit: t.m_init,
    mBest: best.effectiveBest({ task: t.name, shipped: t.m_best, higherIsBetter: t.metric.direction === 'higher' }),
  });
  return {
    async taskInfo(a: { task: string }): Promise<TaskInfo> {
      const t = loadTaskOrFail(a.task);
      return {
        name: t.name,
        script: STARTER_SCRIPT,
        metricName: t.metric.name,
        higherIsBetter: t.metric.direction === 'higher',
        ...rewardScaleOf(t),
        scriptTimeoutSec: t.scriptTimeoutSec,
        researchProblem: t.researchProblem,
      };
    },

    /** Each task's reward scale, read once when a run starts so that it stays fixed for the whole run. */
    async rewardScales(a: { tasks: string[] }): Promise<Record<string, RewardScale>> {
      return Object.fromEntries(a.tasks.map((task) => [task, rewardScaleOf(loadTaskOrFail(task))]));
    },

    /** The agent's response at a state; `usage` when an LLM answered (failed HTTP calls are retried as the activity). */
    async decideAction(a: {
      agent: AgentSpec;
      task: TaskInfo;
      step: number;
      history: HistoryEntry[];
      seedIdeas: SeedIdea[];
      seed: number;
    }): Promise<{ response: string; usage?: TokenUsage }> {
      const { agent, step, history, seedIdeas, seed } = a;
      switch (agent.kind) {
        case 'scripted':
          return { response: scriptedExpertResponse({ step, history, seedIdeas, seed, script: a.task.script, higherIsBetter: a.task.higherIsBetter }) };
        case 'llm': {
          const client = llmAgentClient({ agent, worker: llmConfig });
          if (!client) {
            throw ApplicationFailure.nonRetryable(
              `agent kind 'llm' needs an OpenAI-compatible chat endpoint: set MLAGENT_LLM_BASE_URL (e.g. http://host:8000/v1) and MLAGENT_LLM_MODEL for the orchestrator worker, or give the agent a baseUrl and model`,
              'LlmNotConfigured',
            );
          }
          return llmExpertResponse({
            client,
            researchProblem: a.task.researchProblem,
            seedIdeas,
            history,
            temperature: agent.temperature,
            maxTokens: agent.maxTokens,
            // Per episode seed and step, so a server that honours seeds can reproduce the episode.
            seed: seed + step,
          });
        }
        case 'policy':
          throw ApplicationFailure.nonRetryable(`agent kind 'policy' is not served by decideAction (the policy runs on the model worker)`, 'AgentNotServed');
      }
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
