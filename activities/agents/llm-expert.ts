import type { HistoryEntry, SeedIdea } from '../../core/episode-schema';
import type { TokenUsage } from '../../core/llm-schemas';
import { promptMessages, promptState } from '../../core/prompt';
import type { LlmClient } from '../llm/client';

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
