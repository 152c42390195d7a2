import type { z } from 'zod';

/**
 * `field.path: message; …` for every issue, so a bad input names its fields. `root` names an issue on the
 * whole value; `prefix` is put before each path (CLI flags: `--`).
 */
export function describeIssues(err: z.ZodError, p: { root?: string; prefix?: string } = {}): string {
  return err.issues.map((i) => `${p.prefix ?? ''}${i.path.length ? i.path.join('.') : (p.root ?? '(root)')}: ${i.message}`).join('; ');
}
