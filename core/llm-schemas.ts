import { z } from 'zod';

/**
 * OpenAI-compatible wire format (the subset mlagent uses) and the client's configuration.
 * Everything a server sends back is parsed with these before use.
 */

/** Configuration from the environment; `MLAGENT_LLM_BASE_URL` unset means "no LLM: use the offline parts". */
export const LlmEnv = z.object({
  MLAGENT_LLM_BASE_URL: z.url({ message: 'MLAGENT_LLM_BASE_URL must be an http(s) URL like http://host:8000/v1' }).optional(),
  MLAGENT_LLM_MODEL: z.string().min(1).optional(),
  MLAGENT_EMBED_MODEL: z.string().min(1).optional(),
  MLAGENT_LLM_API_KEY: z.string().min(1).optional(),
  MLAGENT_LLM_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
});

export const LlmConfig = z.object({
  baseUrl: z.url(),
  /** Chat model; unset means the endpoint is used for embeddings only. */
  model: z.string().min(1).optional(),
  /** Embedding model; unset means embeddings are computed offline (TF-IDF). */
  embedModel: z.string().min(1).optional(),
  apiKey: z.string().min(1).optional(),
  timeoutMs: z.number().int().positive(),
});
export type LlmConfig = z.infer<typeof LlmConfig>;

export const ChatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

const WireUsage = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative().optional(),
  total_tokens: z.number().int().nonnegative(),
});

export const ChatCompletionResponse = z.object({
  model: z.string(),
  choices: z
    .array(
      z.object({
        index: z.number().int(),
        message: z.object({ role: z.literal('assistant'), content: z.string({ message: 'choices[].message.content must be a string (tool calls are not used)' }) }),
        finish_reason: z.string().nullable(),
      }),
    )
    .min(1, 'the server returned no choices'),
  usage: WireUsage,
});

export const EmbeddingsResponse = z.object({
  model: z.string(),
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()).min(1) })),
  usage: WireUsage,
});

/** Token usage of one call, as recorded with a trajectory or an idea set. */
export const TokenUsage = z.object({
  model: z.string(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

export function tokenUsage(model: string, usage: z.infer<typeof WireUsage>): TokenUsage {
  return { model, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens ?? 0, totalTokens: usage.total_tokens };
}
