import type { TokenPair } from './generate';
import type { ForwardInput } from './qwen2';

/**
 * Continuations packed so that pairs with the same prompt share one row and one encoding of that prompt: a
 * step-wise PPO batch holds n actions per state, and the ~1.5k-token state prompt dominates the cost of scoring
 * and training them. Row layout: the prompt (segment 1), then each continuation but its last token (segments
 * 2, 3, …), each seeing the prompt through `prefixes` and with positions continuing from the prompt's end, so
 * every continuation is scored exactly as if it were alone after its prompt.
 */
export interface SharedPromptBatch {
  input: ForwardInput;
  /** Flat indices (row·T + position) of the hidden states that predict each continuation token, pairs in input order. */
  at: number[];
  /** The continuation tokens those positions predict, in the same order. */
  targets: number[];
}

/** Pair indices grouped by prompt, groups in order of first appearance. */
export function samePromptGroups(pairs: TokenPair[]): number[][] {
  const groups = new Map<string, number[]>();
  pairs.forEach((p, i) => {
    const key = p.prompt.join(',');
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  return [...groups.values()];
}

export function sharedPromptBatch(pairs: TokenPair[]): SharedPromptBatch {
  if (pairs.some((p) => p.prompt.length === 0 || p.continuation.length === 0)) throw new Error('continuation scoring needs a non-empty prompt and continuation');
  const rows = samePromptGroups(pairs).map((members) => {
    const prompt = pairs[members[0]].prompt;
    const L = prompt.length;
    const row = { ids: [...prompt], segments: Array<number>(L).fill(1), prefixes: Array<number>(L).fill(0), positions: prompt.map((_, t) => t) };
    // where each member's continuation predictions come from: the prompt's last position, then its own tokens
    const from = new Map<number, number[]>();
    members.forEach((i, k) => {
      const rest = pairs[i].continuation.slice(0, -1);
      const start = row.ids.length;
      row.ids.push(...rest);
      row.segments.push(...rest.map(() => k + 2));
      row.prefixes.push(...rest.map(() => 1));
      row.positions.push(...rest.map((_, t) => L + t));
      from.set(i, [L - 1, ...rest.map((_, t) => start + t)]);
    });
    return { ...row, from };
  });
  const T = Math.max(...rows.map((r) => r.ids.length));
  const pad = (a: number[]) => [...a, ...Array<number>(T - a.length).fill(0)];
  const rowOf = new Map<number, number>();
  rows.forEach((r, b) => { for (const i of r.from.keys()) rowOf.set(i, b); });
  return {
    input: { ids: rows.map((r) => pad(r.ids)), segments: rows.map((r) => pad(r.segments)), prefixes: rows.map((r) => pad(r.prefixes)), positions: rows.map((r) => pad(r.positions)) },
    at: pairs.flatMap((_, i) => rows[rowOf.get(i)!].from.get(i)!.map((t) => rowOf.get(i)! * T + t)),
    targets: pairs.flatMap((p) => p.continuation),
  };
}
