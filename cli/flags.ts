import { parseArgs } from 'node:util';
import { z } from 'zod';
import { describeIssues } from '../core/zod-issues';

/**
 * Parses `--name value` flags with node's parseArgs, then validates them with a zod schema (the single
 * source of truth for CLI input). A bad flag is a clear error naming the flag.
 */
export function parseFlags<S extends z.ZodObject>(schema: S, argv: string[]): { flags: z.output<S>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    options[key] = { type: unwrap(field as z.ZodType) instanceof z.ZodBoolean ? 'boolean' : 'string' };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new Error((err as Error).message);
  }
  const result = schema.safeParse(parsed.values);
  if (!result.success) {
    throw new Error(describeIssues(result.error, { prefix: '--' }));
  }
  return { flags: result.data, positionals: parsed.positionals };
}

function unwrap(t: z.ZodType): z.ZodType {
  let cur: z.ZodType = t;
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault) cur = cur.unwrap() as z.ZodType;
  return cur;
}
