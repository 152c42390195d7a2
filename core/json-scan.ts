/**
 * End offset (exclusive) of the JSON object that opens at `start` ('{'), counting braces outside strings;
 * undefined while it is still open. The response parser and the generation stop rule share it.
 */
export function balancedObjectEnd(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return i + 1;
  }
  return undefined;
}
