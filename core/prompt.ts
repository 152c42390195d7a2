import { z } from 'zod';
import { ACTION_NAMES } from './actions';
import { HistoryEntry } from './episode-schema';

/**
 * How each action is described to the agent (MLAgentBench wording, adapted to exact edits). The examples are
 * concrete: a small policy copies a placeholder such as "..." literally.
 */
const ACTION_DOCS: Record<(typeof ACTION_NAMES)[number], string> = {
  'List Files': 'List files in a directory. Input: {"dir_path": "."}',
  'Read File': 'Read a whole file. Input: {"file_name": "train.py"}',
  'Inspect Script Lines': 'Show lines of a script (at most 100). Input: {"script_name": "train.py", "start_line_number": 1, "end_line_number": 40}',
  'Understand File': 'Summarise a file (columns and types of a CSV, structure of a script). Input: {"file_name": "data/train.csv", "things_to_look_for": "the target column and the feature types"}',
  'Edit Script': 'Replace exact text in a script; each "old" must occur exactly once. Input: {"script_name": "train.py", "edits": [{"old": "model = Ridge(alpha=1.0)", "new": "model = Ridge(alpha=0.1)"}]}',
  'Edit Script (AI)': 'Ask a coder model to edit a script (only when one is configured). Input: {"script_name": "train.py", "edit_instruction": "use gradient boosting instead of the linear model", "save_name": "train.py"}',
  'Undo Edit Script': 'Revert the last edit of a script. Input: {"script_name": "train.py"}',
  'Execute Script': 'Run a Python script and see its output; train.py writes submission.csv. Input: {"script_name": "train.py"}',
  'Final Answer': 'End the episode when submission.csv is as good as you can make it. Input: {"final_answer": "what you did"}',
};

/** Steps of feedback a prompt shows, as in MLAgentBench; older ones are only counted. */
export const HISTORY_STEPS = 3;

/** One chat turn; the model renders a list of them with its own template (model/chat-prompt.ts). */
export const ChatMessage = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });
export type ChatMessage = z.infer<typeof ChatMessage>;

/**
 * What the agent knows at one state, model-agnostic: stored in SFT datasets and sent to the policy, so the
 * prompt can be rendered (and its history shortened) with the acting model's template and tokenizer.
 * `history` holds the most recent steps; `earlierSteps` counts the ones before them.
 */
export const PromptState = z.object({
  researchProblem: z.string(),
  seedIdeas: z.array(z.object({ text: z.string() }).passthrough()),
  history: z.array(HistoryEntry),
  earlierSteps: z.number().int().nonnegative().default(0),
});
export type PromptState = z.input<typeof PromptState>;

/** Keeps the steps a prompt can show, so states travel (to the model worker, into datasets) without the rest. */
export function promptState(p: { researchProblem: string; seedIdeas: { text: string }[]; history: HistoryEntry[]; earlierSteps?: number }): PromptState {
  const shown = p.history.slice(-HISTORY_STEPS);
  return {
    researchProblem: p.researchProblem,
    seedIdeas: p.seedIdeas.map((i) => ({ text: i.text })),
    history: shown,
    earlierSteps: (p.earlierSteps ?? 0) + p.history.length - shown.length,
  };
}

/** How much of the history a rendering shows: the last `steps` steps, each observation cut to `observationChars`. */
export interface HistoryView {
  steps: number;
  /** null = observations whole */
  observationChars: number | null;
}

/** Head and tail of a long text, saying how much was left out (errors sit at the end, headers at the start). */
export function headTail(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const head = Math.ceil(maxChars / 2);
  const tail = maxChars - head;
  return `${text.slice(0, head)}\n[... ${text.length - maxChars} characters omitted ...]\n${text.slice(text.length - tail)}`;
}

/** Environment instructions, the action list and the answer format: the same for every state. */
export const SYSTEM_PROMPT = [
  'You are a machine-learning engineer working on a research problem in a sandboxed workspace. Improve the score of submission.csv.',
  'Each turn you take exactly one action with one of these tools:',
  ...ACTION_NAMES.map((n) => `- ${n}: ${ACTION_DOCS[n]}`),
  '',
  'Reply with exactly these three parts and nothing else:',
  'Thought: <your reasoning>',
  'Action: <one tool name, spelled exactly as listed>',
  'Action Input: <one JSON object with the tool\'s inputs>',
].join('\n');

/** Research problem, seed ideas and the history as `view` shows it. */
export function userPrompt(state: PromptState, view: HistoryView = { steps: HISTORY_STEPS, observationChars: null }): string {
  const s = PromptState.parse(state);
  const shown = view.steps > 0 ? s.history.slice(-view.steps) : [];
  const total = s.earlierSteps + s.history.length;
  const skipped = total - shown.length;
  const parts = ['Research problem:', s.researchProblem];
  if (s.seedIdeas.length) parts.push('', 'Ideas to explore:', ...s.seedIdeas.map((i, k) => `${k + 1}. ${i.text}`));
  parts.push('', `History (${total} steps so far${skipped ? `, the first ${skipped} omitted` : ''}):`);
  shown.forEach((h, i) => {
    const obs = view.observationChars === null ? h.observation : headTail(h.observation, view.observationChars);
    parts.push(`[Step ${skipped + i + 1}]`, h.response, `Observation: ${obs}`);
  });
  if (!shown.length && !total) parts.push('(none yet)');
  return parts.join('\n');
}

/**
 * The agent's prompt at one state as chat messages: system = instructions + tools, user = the state. Every stage
 * (the LLM expert, the SFT dataset, SFT, acting, PPO rollouts) builds its prompt here, so what the policy learns
 * from is what it later sees.
 */
export function promptMessages(state: PromptState, view?: HistoryView): ChatMessage[] {
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: userPrompt(state, view) },
  ];
}
