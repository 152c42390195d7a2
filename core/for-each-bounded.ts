/**
 * Runs `fn` over `items` with at most `limit` in flight, in order of start. Pure promise code, so workflows
 * use it to cap concurrent child workflows deterministically.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
