import type { HistoryEntry, SeedIdea } from '../../core/episode-schema';
import type { TokenUsage } from '../../core/llm-schemas';
import { buildPrompt } from '../../core/prompt';
import type { LlmClient } from '../llm/client';

/**
 * The LLM expert (MLAgentBench-style): the shared agent prompt (tools, research problem, the injected
 * ideas, recent history) as the user message; the system message repeats the answer format, which
 * chat models follow better there. The reply is returned as is: the workflow parses it, and a reply
 * outside the format is recorded as an invalid step like any other agent's.
 */
const SYSTEM = [
  'You are an expert machine-learning engineer acting as an agent in a sandboxed workspace.',
  'Each turn you take exactly one action with one of the listed tools. Reply with exactly three parts and nothing else:',
  'Thought: <your reasoning>',
  'Action: <one tool name, spelled exactly as listed>',
  'Action Input: <one JSON object with the tool\'s inputs>',
].join('\n');

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
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: buildPrompt({ researchProblem: p.researchProblem, seedIdeas: p.seedIdeas, history: p.history }) },
    ],
    temperature: p.temperature,
    maxTokens: p.maxTokens,
    seed: p.seed,
  });
  return { response: res.content, usage: res.usage };
}
