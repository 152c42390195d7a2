import { ACTION_NAMES } from './actions';
import type { HistoryEntry, SeedIdea } from './episode-schema';

/** How each action is described to the agent (MLAgentBench wording, adapted to exact edits). */
const ACTION_DOCS: Record<(typeof ACTION_NAMES)[number], string> = {
  'List Files': 'List files in a directory. Input: {"dir_path": "."}',
  'Read File': 'Read a whole file. Input: {"file_name": "train.py"}',
  'Inspect Script Lines': 'Show lines of a script (at most 100). Input: {"script_name": "train.py", "start_line_number": 1, "end_line_number": 40}',
  'Understand File': 'Summarise a file (columns and types of a CSV, structure of a script). Input: {"file_name": "data/train.csv", "things_to_look_for": "..."}',
  'Edit Script': 'Replace exact text in a script; each "old" must occur exactly once. Input: {"script_name": "train.py", "edits": [{"old": "...", "new": "..."}]}',
  'Edit Script (AI)': 'Ask a coder model to edit a script (only when one is configured). Input: {"script_name": "train.py", "edit_instruction": "...", "save_name": "train.py"}',
  'Undo Edit Script': 'Revert the last edit of a script. Input: {"script_name": "train.py"}',
  'Execute Script': 'Run a Python script and see its output; train.py writes submission.csv. Input: {"script_name": "train.py"}',
  'Final Answer': 'End the episode when submission.csv is as good as you can make it. Input: {"final_answer": "what you did"}',
};

/**
 * The agent's prompt at one state: instructions, tools, research problem, injected ideas and the most
 * recent feedback. The same text is used by the LLM expert, the SFT dataset and the policy, so what the
 * policy learns from is exactly what it later sees.
 */
export function buildPrompt(p: { researchProblem: string; seedIdeas: SeedIdea[]; history: HistoryEntry[]; maxHistory?: number }): string {
  const maxHistory = p.maxHistory ?? 4;
  const shown = p.history.slice(-maxHistory);
  const skipped = p.history.length - shown.length;
  const parts = [
    'You are a machine-learning engineer working on a research problem in a workspace. Improve the score of submission.csv.',
    '',
    'Tools:',
    ...ACTION_NAMES.map((n) => `- ${n}: ${ACTION_DOCS[n]}`),
    '',
    'Research problem:',
    p.researchProblem,
  ];
  if (p.seedIdeas.length) {
    parts.push('', 'Ideas to explore:', ...p.seedIdeas.map((i, k) => `${k + 1}. ${i.text}`));
  }
  parts.push('', `History (${p.history.length} steps so far${skipped ? `, the first ${skipped} omitted` : ''}):`);
  shown.forEach((h, i) => {
    parts.push(`[Step ${skipped + i + 1}]`, h.response, `Observation: ${h.observation}`);
  });
  parts.push('', 'Respond in exactly this format:', 'Thought: <your reasoning>', 'Action: <one tool name>', 'Action Input: <a JSON object>');
  return parts.join('\n');
}
