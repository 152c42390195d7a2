import { ChatMessage, HISTORY_STEPS, HistoryView, PromptState, promptMessages } from './prompt';

/**
 * Tokens one step may take, prompt plus action: well inside SmolLM2's 8192 positions, and a length whose
 * forward/backward a 135M model still does on 2 CPU cores (activations grow with it).
 */
export const DEFAULT_CONTEXT_TOKENS = 2048;

export class PromptBudgetError extends Error {
  override name = 'PromptBudgetError';
}

export interface FittedPrompt {
  messages: ChatMessage[];
  /** prompt tokens as `countTokens` counted them */
  tokens: number;
  view: HistoryView;
}

/**
 * The state's messages within `budget` tokens. The instructions, tools, research problem and seed ideas are
 * always whole; only the history gives way: first its observations are cut to head + tail (all shown ones to
 * the same length, the longest that fits), then, if even empty observations do not fit, the oldest steps go.
 * Throws when the fixed parts alone exceed the budget: a prompt is never cut silently.
 */
export function fitPrompt(p: { state: PromptState; budget: number; countTokens: (messages: ChatMessage[]) => number }): FittedPrompt {
  const { state, budget, countTokens } = p;
  const at = (view: HistoryView) => {
    const messages = promptMessages(state, view);
    return { messages, tokens: countTokens(messages), view };
  };
  const fixed = at({ steps: 0, observationChars: 0 });
  if (fixed.tokens > budget) {
    throw new PromptBudgetError(
      `the prompt's fixed parts (instructions, tools, research problem, seed ideas) take ${fixed.tokens} tokens, more than the budget of ${budget}; raise the budget (seqLen / context) or shorten the task's research problem`,
    );
  }
  const longest = Math.max(0, ...state.history.map((h) => h.observation.length));
  for (let steps = Math.min(HISTORY_STEPS, state.history.length); steps > 0; steps--) {
    const whole = at({ steps, observationChars: null });
    if (whole.tokens <= budget) return whole;
    let best = at({ steps, observationChars: 0 });
    if (best.tokens > budget) continue;
    // Binary search on the longest observation length that fits (token counts grow with it).
    let lo = 0, hi = longest;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const r = at({ steps, observationChars: mid });
      if (r.tokens <= budget) { best = r; lo = mid; } else hi = mid - 1;
    }
    return best;
  }
  return fixed;
}
