import { randomInt } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { generateSteps } from '../generate';
import { ApiError, type ChatCompletionRequest, type FinishReason, type Usage, usage } from './openai-wire';
import type { ServedPolicy } from './served-policy';

/** max_tokens when a request gives none (and the context has room): bounded, since CPU decoding is a few tokens a second. */
export const DEFAULT_MAX_TOKENS = 512;

export interface CompletionEnd { finishReason: FinishReason; usage: Usage }

/** The client went away mid-generation; nobody is left to answer. */
export class GenerationAborted extends Error {
  constructor(readonly tokens: number) {
    super(`the client closed the connection after ${tokens} generated tokens`);
  }
}

/**
 * One chat completion: the messages rendered with the policy's chat template, sampled token by token; yields
 * text as it becomes final and returns why it ended. Text is held back while it could still be the start of
 * a stop sequence or of a multi-byte character. Between tokens it yields to the event loop (so the server can
 * queue and answer other requests) and ends early when `signal` aborts (the client went away).
 */
export async function* chatCompletion(p: { policy: ServedPolicy; request: ChatCompletionRequest; signal: AbortSignal }): AsyncGenerator<string, CompletionEnd> {
  const { model, tokenizer, renderer } = p.policy;
  const req = p.request;
  const prompt = renderer.prompt(req.messages);
  const promptTokens = tokenizer.encode(prompt).length;
  const context = model.config.max_position_embeddings;
  const asked = req.max_completion_tokens ?? req.max_tokens;
  const maxTokens = Math.max(1, asked ?? Math.min(DEFAULT_MAX_TOKENS, context - promptTokens));
  if (promptTokens + maxTokens > context) {
    throw new ApiError(400, `This model's maximum context length is ${context} tokens. However, you requested ${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`, { param: 'messages', code: 'context_length_exceeded' });
  }
  const steps = generateSteps(model, tokenizer, [prompt], {
    maxNewTokens: maxTokens,
    temperature: req.temperature,
    topP: req.top_p,
    seed: req.seed ?? randomInt(2 ** 31),
    stopAtActionInput: false,
    decoding: 'free',
  });
  let sent = 0;
  try {
    for (;;) {
      const r = steps.next();
      const tokens = r.value[0]!.tokens;
      const text = tokenizer.decode(tokens);
      const end = (finishReason: FinishReason): CompletionEnd => ({ finishReason, usage: usage(promptTokens, tokens.length) });
      const cut = firstStop(text, req.stop);
      if (cut !== undefined) {
        if (cut > sent) yield text.slice(sent, cut);
        return end('stop');
      }
      if (r.done) {
        if (text.length > sent) yield text.slice(sent);
        return end(r.value[0]!.stop === 'eos' ? 'stop' : 'length');
      }
      const safe = heldBack(text, req.stop);
      if (safe > sent) {
        yield text.slice(sent, safe);
        sent = safe;
      }
      await nextTurn();
      if (p.signal.aborted) throw new GenerationAborted(tokens.length);
    }
  } finally {
    steps.return([]); // frees the KV cache when the loop ends early
  }
}

function firstStop(text: string, stops: string[]): number | undefined {
  let cut: number | undefined;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && (cut === undefined || at < cut)) cut = at;
  }
  return cut;
}

/** How much of `text` is final: not a partial UTF-8 character (U+FFFD at the end) nor the start of a stop. */
function heldBack(text: string, stops: string[]): number {
  let n = text.length;
  while (n > 0 && text[n - 1] === '\uFFFD') n--;
  let keep = n;
  for (const s of stops)
    for (let k = Math.min(s.length - 1, n); k > 0; k--)
      if (text.endsWith(s.slice(0, k), n)) { keep = Math.min(keep, n - k); break; }
  return keep;
}
