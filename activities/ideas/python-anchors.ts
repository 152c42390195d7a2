/**
 * Finds the places in a starter `train.py` that idea edits rewrite, by recognisable anchors rather
 * than line numbers, so the same bank works on every starter of a task type. Each finder returns
 * undefined unless its anchor is unambiguous (the exact text occurs once), so every edit built on an
 * anchor applies cleanly.
 */

export interface CallSite {
  /** The callee as written, e.g. `LogisticRegression`. */
  name: string;
  /** The whole call expression, e.g. `LogisticRegression(max_iter=1000)`: the `old` text of an edit. */
  text: string;
}

/**
 * The single call of one of `names` outside import lines, with its balanced argument list.
 * Undefined when there is none, several, or the call text is not unique in the source.
 */
export function findSingleCall(source: string, names: readonly string[]): CallSite | undefined {
  const code = blankStringsAndComments(source);
  const pattern = new RegExp(`(?<![\\w.])(${names.map(escapeRegExp).join('|')})\\s*\\(`, 'g');
  const sites: CallSite[] = [];
  for (const m of code.matchAll(pattern)) {
    if (isImportLine(code, m.index)) continue;
    const close = matchingParen(code, m.index + m[0].length - 1);
    if (close === undefined) return undefined;
    sites.push({ name: m[1]!, text: source.slice(m.index, close + 1) });
  }
  if (sites.length !== 1) return undefined;
  return occurrences(source, sites[0]!.text) === 1 ? sites[0] : undefined;
}

/** The first top-level import line (with its newline), if unique: new imports are inserted before it. */
export function findImportAnchor(source: string): string | undefined {
  for (const line of source.split('\n')) {
    if (!/^(import|from)\s+\S/.test(line) || /^from\s+__future__\s/.test(line)) continue;
    const anchor = `${line}\n`;
    if (occurrences(source, anchor) === 1) return anchor;
  }
  return undefined;
}

export function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}

/** Same length as the source, with string literal contents and comments replaced by spaces. */
function blankStringsAndComments(source: string): string {
  const out = source.split('');
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') out[i++] = ' ';
    } else if (c === '"' || c === "'") {
      const quote = source.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      let j = i + quote.length;
      while (j < source.length && !source.startsWith(quote, j)) j += source[j] === '\\' ? 2 : 1;
      for (let k = i + quote.length; k < Math.min(j, source.length); k++) if (out[k] !== '\n') out[k] = ' ';
      i = j + quote.length;
    } else {
      i++;
    }
  }
  return out.join('');
}

function matchingParen(code: string, open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '(' || code[i] === '[' || code[i] === '{') depth++;
    else if (code[i] === ')' || code[i] === ']' || code[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return undefined;
}

function isImportLine(code: string, index: number): boolean {
  const lineStart = code.lastIndexOf('\n', index - 1) + 1;
  return /^\s*(import|from)\s/.test(code.slice(lineStart, index));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
