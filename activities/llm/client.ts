import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import {
  ChatCompletionResponse,
  ChatMessage,
  EmbeddingsResponse,
  LlmConfig,
  LlmEnv,
  TokenUsage,
  tokenUsage,
} from '../../core/llm-schemas';

/**
 * One OpenAI-compatible client (chat completions + embeddings) for every LLM use in mlagent.
 * It never retries by itself: a transient failure (network, timeout, 408/409/429/5xx) is thrown as a
 * plain error so the calling activity's retry policy retries it; a request the server rejects
 * (other 4xx) or a response that breaks the wire format is a non-retryable failure.
 */

/** The LLM configuration from the environment, or undefined when no endpoint is configured (offline mode). */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmConfig | undefined {
  const parsed = LlmEnv.safeParse(env);
  if (!parsed.success) throw new Error(`LLM configuration: ${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  if (e.MLAGENT_LLM_BASE_URL === undefined) return undefined;
  return LlmConfig.parse({
    baseUrl: e.MLAGENT_LLM_BASE_URL,
    model: e.MLAGENT_LLM_MODEL,
    embedModel: e.MLAGENT_EMBED_MODEL,
    apiKey: e.MLAGENT_LLM_API_KEY,
    timeoutMs: e.MLAGENT_LLM_TIMEOUT_MS,
  });
}

export interface ChatRequest {
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  seed?: number;
}

export interface ChatResult {
  content: string;
  finishReason: string | null;
  usage: TokenUsage;
}

export interface EmbedResult {
  vectors: number[][];
  usage: TokenUsage;
}

const TRANSIENT_STATUS = new Set([408, 409, 429]);

export class LlmClient {
  constructor(readonly config: LlmConfig) {}

  async chat(req: ChatRequest): Promise<ChatResult> {
    const model = required(this.config.model, 'MLAGENT_LLM_MODEL', 'chat');
    const body = await this.post('/chat/completions', ChatCompletionResponse, {
      model,
      messages: req.messages,
      ...(req.temperature !== undefined && { temperature: req.temperature }),
      ...(req.maxTokens !== undefined && { max_tokens: req.maxTokens }),
      ...(req.seed !== undefined && { seed: req.seed }),
    });
    const choice = body.choices[0]!;
    return { content: choice.message.content, finishReason: choice.finish_reason, usage: tokenUsage(body.model, body.usage) };
  }

  async embed(inputs: string[]): Promise<EmbedResult> {
    const model = required(this.config.embedModel, 'MLAGENT_EMBED_MODEL', 'embeddings');
    const body = await this.post('/embeddings', EmbeddingsResponse, { model, input: inputs });
    if (body.data.length !== inputs.length) throw protocolError(`/embeddings returned ${body.data.length} vectors for ${inputs.length} inputs`);
    const vectors = new Array<number[]>(inputs.length);
    for (const d of body.data) {
      if (d.index >= inputs.length || vectors[d.index] !== undefined) throw protocolError(`/embeddings returned a bad or repeated index ${d.index}`);
      vectors[d.index] = d.embedding;
    }
    const dim = vectors[0]!.length;
    if (vectors.some((v) => v.length !== dim)) throw protocolError('/embeddings returned vectors of different lengths');
    return { vectors, usage: tokenUsage(body.model, body.usage) };
  }

  private async post<S extends z.ZodType>(route: string, schema: S, payload: unknown): Promise<z.infer<S>> {
    const url = `${this.config.baseUrl.replace(/\/+$/, '')}${route}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.config.apiKey && { authorization: `Bearer ${this.config.apiKey}` }) },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
    } catch (err) {
      throw new Error(`LLM ${url}: request failed (will be retried): ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      const message = `LLM ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`;
      if (res.status >= 500 || TRANSIENT_STATUS.has(res.status)) throw new Error(message);
      throw ApplicationFailure.create({ message, type: 'LlmRequestRejected', nonRetryable: true });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw protocolError(`${url} answered with non-JSON: ${text.slice(0, 200)}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw protocolError(`${url} answered outside the OpenAI wire format: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }
}

function required(value: string | undefined, envName: string, what: string): string {
  if (value === undefined) throw ApplicationFailure.create({ message: `LLM ${what} needs ${envName} to be set`, type: 'LlmNotConfigured', nonRetryable: true });
  return value;
}

function protocolError(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message: `LLM protocol error: ${message}`, type: 'LlmProtocolError', nonRetryable: true });
}
