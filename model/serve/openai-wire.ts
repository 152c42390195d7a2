import { z } from 'zod';

/**
 * The OpenAI chat-completions wire format as `mlagent serve` accepts and answers it. Fields other clients send
 * that do not change a single sampled answer (user, penalties of 0, …) are ignored, as OpenAI-compatible servers do.
 */

const TextPart = z.object({ type: z.literal('text'), text: z.string() });

/** Content as a string or as text parts (what newer clients send); joined to one string. */
const Content = z.union([z.string(), z.array(TextPart).min(1)]).transform((c) => (typeof c === 'string' ? c : c.map((p) => p.text).join('')));

const RequestMessage = z.object({
  // 'developer' is the newer clients' name for the system role
  role: z.enum(['system', 'developer', 'user', 'assistant']).transform((r) => (r === 'developer' ? 'system' : r)),
  content: Content,
});

/** Clients that serialise every field send null for the ones they leave unset: treated as absent. */
const withoutNulls = (v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) : v);

export const ChatCompletionRequest = z.preprocess(withoutNulls, z.object({
  model: z.string({ message: 'model is required (GET /v1/models lists it)' }).min(1),
  messages: z.array(RequestMessage, { message: 'messages is required: an array of {role, content}' }).min(1, 'messages must not be empty'),
  max_tokens: z.number().int().positive().optional(),
  /** the newer name of max_tokens */
  max_completion_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).default(1),
  top_p: z.number().gt(0).lte(1).default(1),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).optional().transform((s) => (s === undefined ? [] : typeof s === 'string' ? [s] : s)),
  seed: z.number().int().optional(),
  n: z.literal(1, 'only n = 1 is served').default(1),
  stream: z.boolean().default(false),
  stream_options: z.object({ include_usage: z.boolean().default(false) }).optional(),
}));
export type ChatCompletionRequest = z.output<typeof ChatCompletionRequest>;

/** An OpenAI-style error: `{error: {message, type, param, code}}` with its HTTP status. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly opts: { type?: string; param?: string | null; code?: string | null } = {}) {
    super(message);
  }

  get body() {
    return { error: { message: this.message, type: this.opts.type ?? 'invalid_request_error', param: this.opts.param ?? null, code: this.opts.code ?? null } };
  }

  /** The first problem of a request that failed validation, naming its field. */
  static fromZod(err: z.ZodError): ApiError {
    const issue = err.issues[0]!;
    const param = issue.path.map(String).join('.') || null;
    return new ApiError(400, param ? `${param}: ${issue.message}` : issue.message, { param, code: 'invalid_value' });
  }
}

export interface Usage { prompt_tokens: number; completion_tokens: number; total_tokens: number }

export type FinishReason = 'stop' | 'length';

export const usage = (prompt: number, completion: number): Usage => ({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });
