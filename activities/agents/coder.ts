import type { TokenUsage } from '../../core/llm-schemas';
import type { LlmClient } from '../llm/client';

/**
 * The coder behind `Edit Script (AI)`: given an instruction and a script, the LLM returns the whole
 * edited script. Only the code is kept: a fenced block when there is one (the longest, so a short
 * example before the file does not win), else the raw reply.
 */
const SYSTEM =
  'You are a careful Python programmer. Apply the requested edit to the script and return the complete edited script ' +
  'in a single ```python fenced code block, with no explanation. Keep everything the instruction does not ask to change.';

export type CoderResult = { ok: true; code: string; usage: TokenUsage } | { ok: false; error: string; usage: TokenUsage };

export async function coderEdit(p: { client: LlmClient; scriptName: string; script: string; instruction: string }): Promise<CoderResult> {
  const res = await p.client.chat({
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: `Edit instruction:\n${p.instruction}\n\nCurrent content of ${p.scriptName}:\n\`\`\`python\n${p.script}\n\`\`\`` },
    ],
    temperature: 0,
  });
  // A reply cut off at the token limit holds a truncated file: writing it would break the script.
  if (res.finishReason === 'length') return { ok: false, error: 'the coder\'s answer was cut off at its token limit', usage: res.usage };
  const code = extractCode(res.content);
  if (!code.trim()) return { ok: false, error: 'the coder returned no code', usage: res.usage };
  return { ok: true, code, usage: res.usage };
}

/** The code in an LLM reply: the longest fenced block, an unclosed fence's rest, or the whole reply. */
export function extractCode(reply: string): string {
  const blocks = [...reply.matchAll(/```[^\n`]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
  if (blocks.length) return ensureNewline(blocks.reduce((a, b) => (b.length > a.length ? b : a)));
  const open = /```[^\n`]*\n/.exec(reply);
  if (open) return ensureNewline(reply.slice(open.index + open[0].length));
  return ensureNewline(reply.trim());
}

function ensureNewline(code: string): string {
  return code.endsWith('\n') ? code : `${code}\n`;
}
