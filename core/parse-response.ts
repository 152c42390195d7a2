import { z } from 'zod';
import { ACTION_NAMES, Action, ActionInputs, ActionName } from './actions';
import { balancedObjectEnd } from './json-scan';
import { describeIssues } from './zod-issues';

export type ParsedResponse =
  | { ok: true; thought: string; action: Action }
  | { ok: false; thought: string; error: string };

/**
 * Parses `Thought: …` / `Action: <name>` / `Action Input: <json>`. Never throws: anything invalid
 * comes back as an error message that becomes the agent's feedback (reward 0, episode goes on).
 */
export function parseResponse(text: string): ParsedResponse {
  const thought = /Thought:\s*([\s\S]*?)(?=\n\s*Action:|$)/.exec(text)?.[1]?.trim() ?? '';
  const nameMatch = /^\s*Action:\s*(.+?)\s*$/m.exec(text);
  if (!nameMatch) return fail(thought, 'no "Action:" line found; answer with Thought:, Action: and Action Input:');
  const name = nameMatch[1] as ActionName;
  if (!ACTION_NAMES.includes(name)) {
    return fail(thought, `unknown action "${nameMatch[1]}"; valid actions: ${ACTION_NAMES.join(', ')}`);
  }
  const inputMatch = /Action Input:\s*([\s\S]*)$/m.exec(text.slice(nameMatch.index));
  if (!inputMatch) return fail(thought, `no "Action Input:" after "Action: ${name}"`);
  const json = firstJsonObject(inputMatch[1]);
  if (json === undefined) return fail(thought, `Action Input for "${name}" is not a JSON object`);
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    return fail(thought, `Action Input for "${name}" is not valid JSON: ${(err as Error).message}`);
  }
  const schema = ActionInputs[name] as z.ZodType;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, { root: '(input)' });
    return fail(thought, `invalid Action Input for "${name}": ${issues}`);
  }
  return { ok: true, thought, action: { name, input: parsed.data } as Action };
}

/** Renders an action back into the response format (the scripted agent and SFT data use it). */
export function formatResponse(p: { thought: string; action: Action }): string {
  return `Thought: ${p.thought}\nAction: ${p.action.name}\nAction Input: ${JSON.stringify(p.action.input)}`;
}

function fail(thought: string, error: string): ParsedResponse {
  return { ok: false, thought, error };
}

/** The first balanced {...} in s, respecting strings, so trailing prose after the JSON is ignored. */
function firstJsonObject(s: string): string | undefined {
  const start = s.indexOf('{');
  const end = start < 0 ? undefined : balancedObjectEnd(s, start);
  return end === undefined ? undefined : s.slice(start, end);
}
