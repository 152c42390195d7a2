import type { ActionName } from '../core/actions';

/**
 * The agent's response format as a small deterministic byte program, the grammar constrained decoding follows:
 *
 *   Thought: <one line of printable ASCII>\n Action: <name>\n Action Input: <JSON object for that action>
 *
 * The JSON object has exactly the action's keys in schema order, an optional single space after each ':' and ','.
 * Each instruction matches a piece; `response-automaton.ts` runs the program byte by byte.
 */
export type Instr =
  | { kind: 'lit'; text: string }
  /** Free text up to and including '\n'. */
  | { kind: 'thought' }
  /** One of several prefix-free literals, each continuing at its own instruction. */
  | { kind: 'branch'; alts: { text: string; target: number }[] }
  /** An optional single space. */
  | { kind: 'space' }
  /** A JSON string (escapes allowed), non-empty when minLength is 1. */
  | { kind: 'str'; minLength: 0 | 1 }
  /**
   * A positive JSON integer of at most MAX_LINE_DIGITS digits: 'save' remembers it, 'atLeastSaved' must be ≥ the
   * remembered one (Inspect Script Lines' end ≥ start refinement).
   */
  | { kind: 'int'; role: 'save' | 'atLeastSaved' }
  | { kind: 'accept' };

/** Line numbers up to 9999: scripts here are far shorter, and the bound keeps the automaton finite. */
export const MAX_LINE_DIGITS = 4;

type FieldValue = 'string' | 'nonEmptyString' | 'startLine' | 'endLine' | 'edits';

/** Each action's input object, key by key in schema order (checked against `ActionInputs` by the tests). */
export const ACTION_FIELDS: Record<ActionName, [string, FieldValue][]> = {
  'List Files': [['dir_path', 'nonEmptyString']],
  'Read File': [['file_name', 'nonEmptyString']],
  'Inspect Script Lines': [['script_name', 'nonEmptyString'], ['start_line_number', 'startLine'], ['end_line_number', 'endLine']],
  'Understand File': [['file_name', 'nonEmptyString'], ['things_to_look_for', 'string']],
  'Edit Script': [['script_name', 'nonEmptyString'], ['edits', 'edits']],
  'Edit Script (AI)': [['script_name', 'nonEmptyString'], ['edit_instruction', 'nonEmptyString'], ['save_name', 'nonEmptyString']],
  'Undo Edit Script': [['script_name', 'nonEmptyString']],
  'Execute Script': [['script_name', 'nonEmptyString']],
  'Final Answer': [['final_answer', 'string']],
};

/** Which part of the response an instruction belongs to: the decoding budgets count tokens per part. */
export type Phase = 'thought' | 'action' | 'input';

export interface ResponseProgram {
  instrs: Instr[];
  phase: Phase[];
  /** The instruction of the free thought text. */
  thoughtPc: number;
}

/** The program for a set of allowed actions (the environment's). */
export function responseProgram(actions: readonly ActionName[]): ResponseProgram {
  if (actions.length === 0) throw new Error('constrained decoding needs at least one action');
  const instrs: Instr[] = [];
  const phase: Phase[] = [];
  const push = (i: Instr, p: Phase) => (instrs.push(i), phase.push(p), instrs.length - 1);
  push({ kind: 'lit', text: 'Thought: ' }, 'thought');
  const thoughtPc = push({ kind: 'thought' }, 'thought');
  push({ kind: 'lit', text: 'Action: ' }, 'action');
  // names end with their newline, so "Edit Script" and "Edit Script (AI)" are prefix-free alternatives
  const names: Extract<Instr, { kind: 'branch' }> = { kind: 'branch', alts: [] };
  push(names, 'action');
  for (const name of [...new Set(actions)]) {
    names.alts.push({ text: `${name}\n`, target: push({ kind: 'lit', text: 'Action Input: ' }, 'action') });
    ACTION_FIELDS[name].forEach(([key, value], i) => {
      if (i > 0) (push({ kind: 'lit', text: ',' }, 'input'), push({ kind: 'space' }, 'input'));
      push({ kind: 'lit', text: `${i === 0 ? '{' : ''}${JSON.stringify(key)}:` }, 'input');
      push({ kind: 'space' }, 'input');
      pushValue(value, (x) => push(x, 'input'), () => instrs.length);
    });
    push({ kind: 'lit', text: '}' }, 'input');
    push({ kind: 'accept' }, 'input');
  }
  return { instrs, phase, thoughtPc };
}

function pushValue(value: FieldValue, push: (i: Instr) => number, nextPc: () => number): void {
  if (value === 'string' || value === 'nonEmptyString') push({ kind: 'str', minLength: value === 'string' ? 0 : 1 });
  else if (value === 'startLine') push({ kind: 'int', role: 'save' });
  else if (value === 'endLine') push({ kind: 'int', role: 'atLeastSaved' });
  else {
    // [ {"old": "…", "new": "…"} (, {…})* ]
    push({ kind: 'lit', text: '[' });
    const again = push({ kind: 'space' });
    push({ kind: 'lit', text: '{"old":' });
    push({ kind: 'space' });
    push({ kind: 'str', minLength: 1 });
    push({ kind: 'lit', text: ',' });
    push({ kind: 'space' });
    push({ kind: 'lit', text: '"new":' });
    push({ kind: 'space' });
    push({ kind: 'str', minLength: 0 });
    push({ kind: 'lit', text: '}' });
    const branch: Instr = { kind: 'branch', alts: [{ text: ',', target: again }] };
    push(branch);
    branch.alts.push({ text: ']', target: nextPc() });
  }
}
