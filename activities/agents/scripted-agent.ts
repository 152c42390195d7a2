import type { Action } from '../../core/actions';
import type { HistoryEntry, SeedIdea } from '../../core/episode-schema';
import { formatResponse } from '../../core/parse-response';

/**
 * The walking skeleton's agent: a fixed, sensible sequence of real actions. Look at the files, read and
 * run the starter, implement the first seed idea with exact edits (or, with none, a harmless annotation),
 * run again, answer. Deterministic in (step, seed ideas), so its episodes replay and re-score identically.
 */
export function scriptedResponse(p: { step: number; history: HistoryEntry[]; seedIdeas: SeedIdea[]; script: string }): string {
  const idea = p.seedIdeas[0];
  const edits = idea?.edits?.find((e) => e.script_name === p.script)?.edits;
  const plan: { thought: string; action: Action }[] = [
    { thought: 'First, see what files the task provides.', action: { name: 'List Files', input: { dir_path: '.' } } },
    { thought: `Read the starter script ${p.script} to understand the baseline.`, action: { name: 'Read File', input: { file_name: p.script } } },
    { thought: 'Run the baseline to get its output and a first submission.', action: { name: 'Execute Script', input: { script_name: p.script } } },
    edits
      ? { thought: `Implement the idea: ${idea.text}`, action: { name: 'Edit Script', input: { script_name: p.script, edits } } }
      : {
          thought: 'No idea to try was given; annotate the script so the run is traceable.',
          action: { name: 'Edit Script', input: { script_name: p.script, edits: [firstLineAnnotation(p.history)] } },
        },
    { thought: 'Run the edited script to measure the change.', action: { name: 'Execute Script', input: { script_name: p.script } } },
    {
      thought: 'The edited script ran; submit it.',
      action: { name: 'Final Answer', input: { final_answer: idea ? `Implemented: ${idea.text}` : 'Ran the baseline and an annotated copy.' } },
    },
  ];
  return formatResponse(plan[Math.min(p.step, plan.length - 1)]);
}

/** An edit anchored on the script's first line, as read in step 2's observation. */
function firstLineAnnotation(history: HistoryEntry[]): { old: string; new: string } {
  const firstLine = history[1]?.observation.split('\n')[0] ?? '';
  return { old: firstLine, new: `# reviewed by the scripted agent\n${firstLine}` };
}
