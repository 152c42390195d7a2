/**
 * Where a response ends: right after the JSON object that follows `Action Input:` closes (braces counted
 * outside strings). Returns the end offset, or undefined while the object is still open.
 */
export function actionInputEnd(text: string): number | undefined {
  const at = text.indexOf('Action Input:');
  if (at < 0) return undefined;
  const open = text.indexOf('{', at);
  if (open < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
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
