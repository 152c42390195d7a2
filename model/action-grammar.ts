import { z } from 'zod';
import type { ActionName } from '../core/actions';

/**
 * The agent's response format as a small deterministic byte program, the grammar constrained decoding follows:
 *
 *   Thought: <one line of printable ASCII>\n Action: <name>\n Action Input: <JSON object for that action>
 *
 * The JSON object has exactly the action's keys in schema order, an optional single space after each ':' and ','.
 * Each instruction matches a piece; `response-automaton.ts` runs the program byte by byte. Given the workspace the
 * action runs in (`WorkspaceFacts`), the grammar is grounded in it: paths name entries that exist and an
 * `Edit Script` makes one edit whose "old" is a line that occurs exactly once in the chosen script, so a constrained action can only
 * fail on what it means (a broken script), not on a path or an edit that cannot apply.
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

/**
 * What an action runs against: its workspace's directories ('.' included) and files (relative paths), and the text
 * of the scripts it may edit or run. From the state's snapshot (activities/model/workspace-facts.ts).
 */
export const WorkspaceFacts = z.object({
  dirs: z.array(z.string().min(1)).min(1),
  files: z.array(z.string().min(1)),
  scripts: z.array(z.object({ path: z.string().min(1), text: z.string() }).strict()),
}).strict();
export type WorkspaceFacts = z.infer<typeof WorkspaceFacts>;

type FieldValue = 'string' | 'nonEmptyString' | 'dir' | 'file' | 'script' | 'startLine' | 'endLine' | 'edits';

/** Each action's input object, key by key in schema order (checked against `ActionInputs` by the tests). */
export const ACTION_FIELDS: Record<ActionName, [string, FieldValue][]> = {
  'List Files': [['dir_path', 'dir']],
  'Read File': [['file_name', 'file']],
  'Inspect Script Lines': [['script_name', 'script'], ['start_line_number', 'startLine'], ['end_line_number', 'endLine']],
  'Understand File': [['file_name', 'file'], ['things_to_look_for', 'string']],
  'Edit Script': [['script_name', 'script'], ['edits', 'edits']],
  'Edit Script (AI)': [['script_name', 'script'], ['edit_instruction', 'nonEmptyString'], ['save_name', 'nonEmptyString']],
  'Undo Edit Script': [['script_name', 'script']],
  'Execute Script': [['script_name', 'script']],
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

/** JSON string literal in ASCII only (non-ASCII as \uXXXX): the automaton matches literals byte by byte. */
export function asciiJson(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Lines of a script an `Edit Script` "old" may be: not blank, and occurring exactly once in the whole text. */
export function editableLines(text: string): string[] {
  const once = (line: string) => { const at = text.indexOf(line); return at >= 0 && text.indexOf(line, at + 1) < 0; };
  return [...new Set(text.split('\n'))].filter((l) => l.trim() !== '' && once(l));
}

/** Whether the workspace has something for each of the action's fields to name. */
function groundable(name: ActionName, ws: WorkspaceFacts): boolean {
  return ACTION_FIELDS[name].every(([, v]) =>
    v === 'file' ? ws.files.length > 0 : v === 'script' ? ws.scripts.length > 0 : v === 'edits' ? ws.scripts.some((s) => editableLines(s.text).length > 0) : true);
}

/**
 * The program for a set of allowed actions (the environment's), grounded in `workspace` when given: an action with
 * nothing to name there (no script to run or edit) is left out.
 */
export function responseProgram(actions: readonly ActionName[], workspace?: WorkspaceFacts): ResponseProgram {
  const allowed = [...new Set(actions)].filter((a) => !workspace || groundable(a, workspace));
  if (allowed.length === 0) throw new Error('constrained decoding needs at least one action');
  const instrs: Instr[] = [];
  const phase: Phase[] = [];
  const push = (i: Instr, p: Phase) => (instrs.push(i), phase.push(p), instrs.length - 1);
  const input = (i: Instr) => push(i, 'input');
  /** One literal of several, then on at the next instruction. */
  const oneOf = (texts: string[]) => {
    const at = input({ kind: 'branch', alts: [] });
    (instrs[at] as Extract<Instr, { kind: 'branch' }>).alts = [...new Set(texts)].map((text) => ({ text, target: at + 1 }));
  };
  const pushValue = (value: FieldValue, script: WorkspaceFacts['scripts'][number] | undefined) => {
    if (value === 'string' || value === 'nonEmptyString') input({ kind: 'str', minLength: value === 'string' ? 0 : 1 });
    else if (value === 'dir' && workspace) oneOf(workspace.dirs.map(asciiJson));
    else if (value === 'file' && workspace) oneOf(workspace.files.map(asciiJson));
    else if (value === 'script' && workspace) oneOf(workspace.scripts.map((s) => asciiJson(s.path)));
    else if (value === 'dir' || value === 'file' || value === 'script') input({ kind: 'str', minLength: 1 });
    else if (value === 'startLine') input({ kind: 'int', role: 'save' });
    else if (value === 'endLine') input({ kind: 'int', role: 'atLeastSaved' });
    else pushEdits({ input, oneOf, old: script ? editableLines(script.text).map(asciiJson) : undefined });
  };
  /** Fields from the i-th on; a script that a later edit refers to branches the rest of the object per script. */
  const pushFields = (name: ActionName, from: number, script?: WorkspaceFacts['scripts'][number]) => {
    const fields = ACTION_FIELDS[name];
    for (let i = from; i < fields.length; i++) {
      const [key, value] = fields[i];
      if (i > 0) (input({ kind: 'lit', text: ',' }), input({ kind: 'space' }));
      input({ kind: 'lit', text: `${i === 0 ? '{' : ''}${JSON.stringify(key)}:` });
      input({ kind: 'space' });
      if (value === 'script' && workspace && fields.slice(i + 1).some(([, v]) => v === 'edits')) {
        const names: Extract<Instr, { kind: 'branch' }> = { kind: 'branch', alts: [] };
        input(names);
        for (const s of workspace.scripts.filter((x) => editableLines(x.text).length > 0)) {
          names.alts.push({ text: asciiJson(s.path), target: instrs.length });
          pushFields(name, i + 1, s);
        }
        return;
      }
      pushValue(value, script);
    }
    input({ kind: 'lit', text: '}' });
    input({ kind: 'accept' });
  };
  push({ kind: 'lit', text: 'Thought: ' }, 'thought');
  const thoughtPc = push({ kind: 'thought' }, 'thought');
  push({ kind: 'lit', text: 'Action: ' }, 'action');
  // names end with their newline, so "Edit Script" and "Edit Script (AI)" are prefix-free alternatives
  const names: Extract<Instr, { kind: 'branch' }> = { kind: 'branch', alts: [] };
  push(names, 'action');
  for (const name of allowed) {
    names.alts.push({ text: `${name}\n`, target: push({ kind: 'lit', text: 'Action Input: ' }, 'action') });
    pushFields(name, 0);
  }
  return { instrs, phase, thoughtPc };
}

/**
 * [ {"old": …, "new": "…"} (, {…})* ], "old" any non-empty string; grounded, "old" is one of `old` (JSON literals)
 * and the list holds one edit: a later edit of the same action could name a line an earlier one replaced (the
 * demo's policy did), and the grammar cannot see what an edit leaves.
 */
function pushEdits(p: { input: (i: Instr) => number; oneOf: (texts: string[]) => void; old?: string[] }): void {
  const { input } = p;
  input({ kind: 'lit', text: '[' });
  const again = input({ kind: 'space' });
  input({ kind: 'lit', text: '{"old":' });
  input({ kind: 'space' });
  if (p.old) p.oneOf(p.old);
  else input({ kind: 'str', minLength: 1 });
  input({ kind: 'lit', text: ',' });
  input({ kind: 'space' });
  input({ kind: 'lit', text: '"new":' });
  input({ kind: 'space' });
  input({ kind: 'str', minLength: 0 });
  input({ kind: 'lit', text: '}' });
  if (p.old) {
    input({ kind: 'lit', text: ']' });
    return;
  }
  const branch: Extract<Instr, { kind: 'branch' }> = { kind: 'branch', alts: [{ text: ',', target: again }] };
  const at = input(branch);
  branch.alts.push({ text: ']', target: at + 1 });
}
