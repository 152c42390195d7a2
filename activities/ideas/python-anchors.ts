/**
 * Finds the places in a starter `train.py` that idea edits rewrite, by recognisable anchors rather
 * than line numbers, so one bank serves every starter of a task type. A finder returns undefined
 * unless its anchor is unambiguous (its exact text occurs once), so edits built on it apply cleanly.
 */

/** One call expression, e.g. `LogisticRegression(max_iter=1000)`, and its callee. */
export interface Call {
  name: string;
  text: string;
}

/** The statement building the model: `model = make_pipeline(StandardScaler(), LogisticRegression())`. */
export interface ModelStatement {
  /** The whole statement as written (the `old` text of the edit that replaces it). */
  text: string;
  /** Everything before the right-hand side, e.g. `model = `. */
  lhs: string;
  /** The pipeline steps (make_pipeline's arguments), or the one call when it is not a make_pipeline. */
  steps: Call[];
}

/**
 * The single assignment `NAME = Call(…)` to the variable whose `.fit(` the script calls. Undefined
 * when there is no such call, the variable is assigned more than once, or the text is not unique.
 */
export function findModelStatement(source: string): ModelStatement | undefined {
  const code = blankStringsAndComments(source);
  const fitted = [...new Set([...code.matchAll(/(?<![\w.])([A-Za-z_]\w*)\.fit\(/g)].map((m) => m[1]!))];
  if (fitted.length !== 1) return undefined;
  const assignments = [...code.matchAll(new RegExp(`^([ \\t]*${fitted[0]}[ \\t]*=[ \\t]*)([A-Za-z_][\\w.]*)[ \\t]*\\(`, 'gm'))];
  if (assignments.length !== 1) return undefined;
  const m = assignments[0]!;
  const open = m.index + m[0].length - 1;
  const close = matchingParen(code, open);
  if (close === undefined) return undefined;
  const text = source.slice(m.index, close + 1);
  if (occurrences(source, text) !== 1) return undefined;
  const rhsStart = m.index + m[1]!.length;
  const call = { name: m[2]!, text: source.slice(rhsStart, close + 1) };
  const steps = call.name === 'make_pipeline' ? topLevelArgs(source, code, open, close) : [call];
  if (steps === undefined) return undefined;
  return { text, lhs: m[1]!, steps };
}

/** A datetime series the starter builds (`t = pd.to_datetime(…)`) and the DataFrame literal its features return. */
export interface DateFeatures {
  /** The variable holding the dates, e.g. `t`. */
  dates: string;
  /** `return pd.DataFrame({`: new columns are inserted right after it. */
  anchor: string;
}

export function findDateFeatures(source: string): DateFeatures | undefined {
  const code = blankStringsAndComments(source);
  const dates = [...code.matchAll(/^[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*pd\.to_datetime\(/gm)].map((m) => m[1]!);
  const anchor = 'return pd.DataFrame({';
  if (dates.length !== 1 || occurrences(source, anchor) !== 1 || occurrences(code, anchor) !== 1) return undefined;
  return { dates: dates[0]!, anchor };
}

/**
 * Where new imports go: before the first `from sklearn` line, else before the first import; the
 * line (with its newline) must be unique.
 */
export function findImportAnchor(source: string): string | undefined {
  const lines = source.split('\n').filter((l) => /^(import|from)\s+\S/.test(l) && !/^from\s+__future__\s/.test(l));
  const line = lines.find((l) => l.startsWith('from sklearn')) ?? lines[0];
  return line !== undefined && occurrences(source, `${line}\n`) === 1 ? `${line}\n` : undefined;
}

export function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}

/** Positional arguments of the call whose parens are at open/close, each a call; undefined otherwise (keywords included). */
function topLevelArgs(source: string, code: string, open: number, close: number): Call[] | undefined {
  const args: Call[] = [];
  let start = open + 1;
  let depth = 0;
  for (let i = open + 1; i <= close; i++) {
    const c = code[i]!;
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c) && i < close) depth--;
    if ((c === ',' && depth === 0) || i === close) {
      // Bounds come from the blanked code, so comments between arguments are left out.
      const segment = code.slice(start, i);
      const from = start + segment.search(/\S/);
      const text = segment.trim() === '' ? '' : source.slice(from, start + segment.trimEnd().length);
      if (text !== '') {
        const name = /^([A-Za-z_][\w.]*)\s*\(/.exec(text)?.[1];
        if (name === undefined || !text.endsWith(')')) return undefined;
        args.push({ name, text });
      }
      start = i + 1;
    }
  }
  return args;
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
    if ('([{'.includes(code[i]!)) depth++;
    else if (')]}'.includes(code[i]!) && --depth === 0) return i;
  }
  return undefined;
}
