import { z } from 'zod';
import { TokenBatch } from './lm-loss';
import { Tokenizer } from './tokenizer';
import { describeIssues } from '../core/zod-issues';

/** One line of the SFT dataset artifact (JSONL) produced by trajectory collection. */
export const SftExample = z.object({ prompt: z.string(), response: z.string().min(1) });
export type SftExample = z.infer<typeof SftExample>;

export function parseSftJsonl(text: string, source = 'SFT dataset'): SftExample[] {
  const out: SftExample[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let raw: unknown;
    try { raw = JSON.parse(line); } catch { throw new Error(`${source} line ${i + 1}: not valid JSON`); }
    const r = SftExample.safeParse(raw);
    if (!r.success) throw new Error(`${source} line ${i + 1}: ${describeIssues(r.error)}`);
    out.push(r.data);
  });
  if (out.length === 0) throw new Error(`${source} has no examples`);
  return out;
}

/** Tokens of one example; `train` marks the response tokens (and the closing EOS) that carry the loss. */
export interface TokenizedExample { ids: number[]; train: boolean[] }

/** prompt + response + EOS; over-long examples lose the start of the prompt so the response is kept whole. */
export function tokenizeExample(tok: Tokenizer, ex: SftExample, maxLen: number): TokenizedExample {
  const p = tok.encode(ex.prompt);
  const r = [...tok.encode(ex.response), tok.eosId];
  const ids = [...p, ...r];
  const train = [...p.map(() => false), ...r.map(() => true)];
  const cut = Math.max(0, ids.length - (maxLen + 1));
  return { ids: ids.slice(cut), train: train.slice(cut) };
}

/** A packed row: several examples back to back, each its own attention segment with positions from 0. */
export interface PackedRow { ids: number[]; targets: number[]; weights: number[]; segments: number[]; positions: number[] }

/**
 * First-fit-decreasing packing of examples into rows of `seqLen` inputs, so padding stays small. Each example
 * of n tokens contributes n-1 (input, next-token target) pairs.
 */
export function packExamples(examples: TokenizedExample[], seqLen: number): PackedRow[] {
  const order = examples.map((e, i) => ({ e, i })).filter(({ e }) => e.ids.length >= 2).sort((a, b) => b.e.ids.length - a.e.ids.length || a.i - b.i);
  const rows: PackedRow[] = [];
  for (const { e } of order) {
    const n = Math.min(e.ids.length - 1, seqLen);
    let row = rows.find((r) => r.ids.length + n <= seqLen);
    if (!row) rows.push((row = { ids: [], targets: [], weights: [], segments: [], positions: [] }));
    const seg = (row.segments[row.segments.length - 1] ?? 0) + 1;
    for (let i = 0; i < n; i++) {
      row.ids.push(e.ids[i]);
      row.targets.push(e.ids[i + 1]);
      row.weights.push(e.train[i + 1] ? 1 : 0);
      row.segments.push(seg);
      row.positions.push(i);
    }
  }
  for (const r of rows) while (r.ids.length < seqLen) { r.ids.push(0); r.targets.push(0); r.weights.push(0); r.segments.push(0); r.positions.push(0); }
  return rows.filter((r) => r.weights.some((w) => w > 0));
}

export function toBatch(rows: PackedRow[]): TokenBatch {
  return {
    ids: rows.map((r) => r.ids),
    targets: rows.map((r) => r.targets),
    weights: rows.map((r) => r.weights),
    segments: rows.map((r) => r.segments),
    positions: rows.map((r) => r.positions),
  };
}

/** Deterministic per-epoch shuffle (so a resumed run sees exactly the batches the crashed one would have). */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  let s = (seed * 2654435761 + epoch * 40503 + 1) >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}
