import type { TokenUsage } from '../../core/llm-schemas';
import { truncateObservation } from '../../core/truncate';
import type { LlmClient } from '../llm/client';

/**
 * `Understand File`, offline part: a structural summary computed inside the sandbox (no LLM):
 * CSV → shape, columns, dtypes, missing values, head; Python → imports, functions, classes, top-level flow;
 * anything else → size, line count and head. With an LLM configured, `llmAnswer` adds an answer to
 * `things_to_look_for` over the file's content.
 */
export const UNDERSTAND_FILE_PY = String.raw`
import ast, json, os, sys
path, look_for = sys.argv[1], sys.argv[2]
print(f"File: {path} ({os.path.getsize(path)} bytes)")
if look_for.strip():
    print(f"Looking for: {look_for.strip()}")
if path.endswith((".csv", ".tsv")):
    import pandas as pd
    df = pd.read_csv(path, sep="\t" if path.endswith(".tsv") else ",", nrows=200000)
    print(f"rows: {len(df)}  columns: {df.shape[1]}")
    for c in df.columns[:60]:
        s = df[c]
        extra = f"unique={s.nunique()}" if s.dtype == object else f"min={s.min()} max={s.max()} mean={s.mean():.4g}"
        print(f"  {c}: {s.dtype} missing={int(s.isna().sum())} {extra}")
    if df.shape[1] > 60:
        print(f"  ... {df.shape[1] - 60} more columns")
    print("head:")
    print(df.head(5).to_string(max_cols=20))
elif path.endswith(".py"):
    src = open(path).read()
    tree = ast.parse(src)
    imports = sorted({a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names})
    print(f"lines: {len(src.splitlines())}")
    print("imports: " + ", ".join(imports))
    for n in tree.body:
        if isinstance(n, ast.FunctionDef):
            print(f"  def {n.name}({', '.join(a.arg for a in n.args.args)})  lines {n.lineno}-{n.end_lineno}")
        elif isinstance(n, ast.ClassDef):
            print(f"  class {n.name}  lines {n.lineno}-{n.end_lineno}")
        elif isinstance(n, (ast.Assign, ast.Expr, ast.If, ast.For, ast.With)):
            print(f"  line {n.lineno}: {ast.get_source_segment(src, n).splitlines()[0][:100]}")
else:
    lines = open(path, errors="replace").read().splitlines()
    print(f"lines: {len(lines)}")
    print("\n".join(lines[:20]))
`;

/** The file content the LLM sees: long files keep their head and tail (a CSV's head is what matters). */
const LLM_CONTENT_CHARS = 12_000;

export async function llmAnswer(p: { client: LlmClient; fileName: string; content: string; thingsToLookFor: string }): Promise<{ answer: string; usage: TokenUsage }> {
  const lookFor = p.thingsToLookFor.trim() || 'what the file contains and how it is structured';
  const res = await p.client.chat({
    messages: [
      { role: 'system', content: 'You read files for a machine-learning engineer. Answer only from the file shown, concisely; cite line numbers or column names where they help; say so when the file does not contain what is asked.' },
      { role: 'user', content: `File ${p.fileName}:\n${truncateObservation(p.content, LLM_CONTENT_CHARS)}\n\nLook for: ${lookFor}` },
    ],
    temperature: 0,
  });
  return { answer: res.content.trim(), usage: res.usage };
}
