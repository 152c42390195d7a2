import { seededRandom, shuffled } from './rng';

/**
 * Indices of `count` items spread evenly over their groups (tasks): groups take turns in a seeded order, and
 * each group hands out its items in a seeded order, starting over once all were used. Every task of the
 * pool is trained on, however many states each contributed.
 */
export function stratifiedSample(p: { groups: string[]; count: number; seed: number }): number[] {
  const next = seededRandom(p.seed);
  const byGroup = new Map<string, number[]>();
  p.groups.forEach((g, i) => byGroup.set(g, [...(byGroup.get(g) ?? []), i]));
  if (byGroup.size === 0) throw new Error('cannot sample from an empty pool');
  const turns = shuffled([...byGroup.keys()].sort(), next);
  const queues = new Map<string, number[]>();
  const out: number[] = [];
  for (let k = 0; k < p.count; k++) {
    const g = turns[k % turns.length];
    if (!queues.get(g)?.length) queues.set(g, shuffled(byGroup.get(g)!, next));
    out.push(queues.get(g)!.pop()!);
  }
  return out;
}
