/** One exact search/replace edit, as in `Edit Script {script_name, edits:[{old,new}]}`. */
export interface TextEdit {
  old: string;
  new: string;
}

export type ApplyEditsResult = { ok: true; text: string } | { ok: false; error: string };

/**
 * Applies edits in order; each `old` must occur exactly once in the text at that point, so an edit
 * can never silently land in the wrong place.
 */
export function applyEdits(text: string, edits: TextEdit[]): ApplyEditsResult {
  let out = text;
  for (const [i, e] of edits.entries()) {
    const first = out.indexOf(e.old);
    if (first < 0) return { ok: false, error: `edit ${i + 1}: old text not found: ${JSON.stringify(preview(e.old))}` };
    if (out.indexOf(e.old, first + 1) >= 0) {
      return { ok: false, error: `edit ${i + 1}: old text occurs more than once; include more context: ${JSON.stringify(preview(e.old))}` };
    }
    out = out.slice(0, first) + e.new + out.slice(first + e.old.length);
  }
  return { ok: true, text: out };
}

function preview(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
