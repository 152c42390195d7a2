import { z } from 'zod';
import { ChatMessage, PromptState, promptMessages } from '../core/prompt';
import { PromptBudgetError } from '../core/prompt-budget';
import { describeIssues } from '../core/zod-issues';
import type { PromptRenderer } from './chat-prompt';
import { TokenBatch } from './lm-loss';
import type { Tokenizer } from './tokenizer';

/**
 * One line of the SFT dataset artifact (JSONL) produced by trajectory collection: the chat messages (system,
 * user, assistant = the expert action), model-agnostic, plus the structured `state` they were built from, so
 * training can re-shorten the history to its own token budget with its own tokenizer. Lines of the first format,
 * {"prompt", "response"}, still read: the prompt becomes the user message.
 */
const MessagesLine = z.object({ messages: z.array(ChatMessage).min(1), state: PromptState.optional() }).passthrough();
const LegacyLine = z.object({ prompt: z.string(), response: z.string().min(1) }).passthrough();
export const SftLine = z.union([MessagesLine, LegacyLine]);

/** An example as training uses it: the prompt's messages (or the state to build them from) and the response. */
export interface SftExample {
  messages: ChatMessage[];
  response: string;
  state?: PromptState;
}

function toExample(line: z.infer<typeof SftLine>): SftExample | string {
  if ('prompt' in line && !('messages' in line)) return { messages: [{ role: 'user', content: line.prompt }], response: line.response };
  const { messages, state } = line as z.infer<typeof MessagesLine>;
  const last = messages[messages.length - 1];
  if (last.role !== 'assistant' || !last.content) return 'the last message must be a non-empty assistant message (the action to learn)';
  return { messages: messages.slice(0, -1), response: last.content, state };
}

export function parseSftJsonl(text: string, source = 'SFT dataset'): SftExample[] {
  const out: SftExample[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let raw: unknown;
    try { raw = JSON.parse(line); } catch { throw new Error(`${source} line ${i + 1}: not valid JSON`); }
    const r = SftLine.safeParse(raw);
    if (!r.success) throw new Error(`${source} line ${i + 1}: ${describeIssues(r.error)}`);
    const ex = toExample(r.data);
    if (typeof ex === 'string') throw new Error(`${source} line ${i + 1}: ${ex}`);
    out.push(ex);
  });
  if (out.length === 0) throw new Error(`${source} has no examples`);
  return out;
}

/** The text of an example, for training a fresh model's tokenizer. */
export function exampleTexts(ex: SftExample): string[] {
  return [...ex.messages.map((m) => m.content), ex.response];
}

/** Tokens of one example; `train` marks the response tokens (and the closing EOS) that carry the loss. */
export interface TokenizedExample { ids: number[]; train: boolean[] }

/**
 * Rendered prompt + the assistant's turn, which alone carries the loss. An example with a `state` has its
 * history shortened to fit `seqLen` (core/prompt-budget.ts); one without must fit as it is. Nothing is cut
 * silently: what does not fit throws, naming the example.
 */
export function tokenizeExample(p: { renderer: PromptRenderer; tokenizer: Tokenizer; example: SftExample; seqLen: number; source: string }): TokenizedExample {
  const { renderer, tokenizer, example, seqLen } = p;
  // n tokens give n-1 (input, target) pairs, so an example of seqLen + 1 tokens fills a row exactly.
  const maxTokens = seqLen + 1;
  let messages = example.messages;
  if (example.state) {
    const room = maxTokens - renderer.completionIds(promptMessages(example.state), example.response).length;
    try {
      messages = renderer.fit(example.state, room).messages;
    } catch (err) {
      throw err instanceof PromptBudgetError ? new PromptBudgetError(`${p.source}: ${err.message} (seqLen ${seqLen} less this example's response)`) : err;
    }
  }
  const prompt = tokenizer.encode(renderer.prompt(messages));
  const completion = renderer.completionIds(messages, example.response);
  if (prompt.length + completion.length > maxTokens) {
    throw new PromptBudgetError(`${p.source}: ${prompt.length} prompt + ${completion.length} response tokens exceed seqLen ${seqLen} + 1; raise seqLen (the example has no structured state whose history could be shortened)`);
  }
  return { ids: [...prompt, ...completion], train: [...prompt.map(() => false), ...completion.map(() => true)] };
}

/** A packed row: several examples back to back, each its own attention segment with positions from 0. */
export interface PackedRow { ids: number[]; targets: number[]; weights: number[]; segments: number[]; positions: number[] }

/**
 * First-fit-decreasing packing of examples into rows of `seqLen` inputs, so padding stays small. Each example
 * of n tokens contributes n-1 (input, next-token target) pairs.
 */
export function packExamples(examples: TokenizedExample[], seqLen: number): PackedRow[] {
  const order = examples.map((e, i) => ({ e, i })).filter(({ e }) => e.ids.length >= 2).sort((a, b) => b.e.ids.length - a.e.ids.length || a.i - b.i);
  const rows: PackedRow[] = [];
  for (const { e } of order) {
    const n = e.ids.length - 1;
    if (n > seqLen) throw new Error(`an example of ${e.ids.length} tokens does not fit a row of ${seqLen}; tokenizeExample keeps examples within seqLen + 1`);
    let row = rows.find((r) => r.ids.length + n <= seqLen);
    if (!row) rows.push((row = { ids: [], targets: [], weights: [], segments: [], positions: [] }));
    const seg = (row.segments[row.segments.length - 1] ?? 0) + 1;
    for (let i = 0; i < n; i++) {
      row.ids.push(e.ids[i]);
      row.targets.push(e.ids[i + 1]);
      row.weights.push(e.train[i + 1] ? 1 : 0);
      row.segments.push(seg);
      row.positions.push(i);
    }
  }
  for (const r of rows) while (r.ids.length < seqLen) { r.ids.push(0); r.targets.push(0); r.weights.push(0); r.segments.push(0); r.positions.push(0); }
  return rows.filter((r) => r.weights.some((w) => w > 0));
}

export function toBatch(rows: PackedRow[]): TokenBatch {
  return {
    ids: rows.map((r) => r.ids),
    targets: rows.map((r) => r.targets),
    weights: rows.map((r) => r.weights),
    segments: rows.map((r) => r.segments),
    positions: rows.map((r) => r.positions),
  };
}

/** Deterministic per-epoch shuffle (so a resumed run sees exactly the batches the crashed one would have). */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  let s = (seed * 2654435761 + epoch * 40503 + 1) >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}
