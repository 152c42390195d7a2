import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifact-store';
import { applyGc, planGc, temporalRoots } from '../../activities/artifact-gc';
import { listModelRecords } from '../../model/model-registry';
import { connectClient } from '../client';
import { parseFlags } from '../flags';

export const describe = 'remove unreferenced workspace snapshots and checkpoints from the artifact store: gc [--older-than DAYS] [--dry-run]';

const Flags = z.object({
  'older-than': z.coerce.number().nonnegative().default(7),
  'dry-run': z.boolean().default(false),
});

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(Flags, argv);
  const store = new ArtifactStore();
  // Without Temporal's view, a finished run's checkpoint could look unreferenced: no fallback, connect or fail.
  const { client, close } = await connectClient();
  let fromTemporal;
  try {
    fromTemporal = await temporalRoots(client);
  } finally {
    await close();
  }
  const registry = (await listModelRecords()).map((m) => m.checkpoint.sha256);
  const plan = await planGc({ store, olderThanMs: flags['older-than'] * 86_400_000, roots: [...registry, ...fromTemporal.refs], runningSinceMs: fromTemporal.runningSinceMs });
  const bytes = plan.remove.reduce((n, o) => n + o.bytes, 0);
  for (const o of plan.remove) console.log(`${flags['dry-run'] ? 'would remove' : 'remove'} ${o.sha256} ${mib(o.bytes)} (${((Date.now() - o.modifiedMs) / 86_400_000).toFixed(1)} days old)`);
  const kept = `kept: ${plan.kept.records} records, ${plan.kept.young} recent tars, ${plan.kept.referenced} referenced tars`;
  if (flags['dry-run']) {
    console.log(`dry run: ${plan.remove.length} objects (${mib(bytes)}) would be removed; ${kept}`);
    return 0;
  }
  const done = await applyGc(store, plan);
  console.log(`removed ${done.removed} objects (${mib(done.bytes)}); ${kept}`);
  return 0;
}
