import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import { connectClient } from './client';
import { parseFlags } from './flags';

/** A command about one run (`mlagent <command> RUN [flags]`): parses the flags, names the run, connects, closes. */
export async function runCommand<S extends z.ZodObject>(p: {
  argv: string[];
  flags: S;
  usage: string;
  act: (a: { client: Client; workflowId: string; flags: z.output<S> }) => Promise<number>;
}): Promise<number> {
  const { flags, positionals } = parseFlags(p.flags, p.argv);
  const [workflowId] = positionals;
  if (!workflowId) throw new Error(`needs a run: ${p.usage} (RUN: a workflow id, as \`mlagent train\` printed it)`);
  const { client, close } = await connectClient();
  try {
    return await p.act({ client, workflowId, flags });
  } finally {
    await close();
  }
}
