import type { HistoryEntry, SeedIdea } from '../../core/episode-schema';
import { LlmEnv, type LlmConfig, type TokenUsage } from '../../core/llm-schemas';
import { promptMessages, promptState } from '../../core/prompt';
import { LlmClient } from '../llm/client';


/**
 * The LLM expert (MLAgentBench-style): the shared agent messages (system: instructions, tools and answer
 * format; user: research problem, injected ideas, recent history), the same the policy is trained on and
 * acts from. The reply is returned as is: the workflow parses it, and a reply outside the format is
 * recorded as an invalid step like any other agent's.
 */

export async function llmExpertResponse(p: {
  client: LlmClient;
  researchProblem: string;
  seedIdeas: SeedIdea[];
  history: HistoryEntry[];
  temperature: number;
  maxTokens?: number;
  seed: number;
}): Promise<{ response: string; usage: TokenUsage }> {
  const res = await p.client.chat({
    messages: promptMessages(promptState({ researchProblem: p.researchProblem, seedIdeas: p.seedIdeas, history: p.history })),
    temperature: p.temperature,
    maxTokens: p.maxTokens,
    seed: p.seed,
  });
  return { response: res.content, usage: res.usage };
}

/** The environment's default request timeout, for an agent endpoint on a worker that has none configured. */
const DEFAULT_TIMEOUT_MS = LlmEnv.parse({}).MLAGENT_LLM_TIMEOUT_MS;

/**
 * The client of an 'llm' agent: the worker's endpoint (or another `model` on it), or the agent's own `baseUrl`,
 * which gets no API key: the worker's key goes only to the worker's endpoint. Undefined when none is configured.
 */
export function llmAgentClient(p: { agent: { baseUrl?: string; model?: string }; worker: LlmConfig | undefined }): LlmClient | undefined {
  const { agent, worker } = p;
  const own = agent.baseUrl !== undefined && agent.baseUrl.replace(/\/+$/, '') !== worker?.baseUrl.replace(/\/+$/, '');
  if (own) return new LlmClient({ baseUrl: agent.baseUrl!, model: agent.model, timeoutMs: worker?.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  const model = agent.model ?? worker?.model;
  return worker && model ? new LlmClient({ ...worker, model }) : undefined;
}
