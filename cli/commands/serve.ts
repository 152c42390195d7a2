import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifact-store';
import { initBackend } from '../../model/backend';
import { resolveCheckpoint } from '../../model/resolve-checkpoint';
import { loadServedPolicy } from '../../model/serve/served-policy';
import { startPolicyServer } from '../../model/serve/server';
import { parseFlags } from '../flags';

export const describe = 'OpenAI-compatible API of a policy: serve [CHECKPOINT: name | sha256 | ref] [--port 8000] [--host 127.0.0.1]';

const Flags = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8000),
  host: z.string().min(1).default('127.0.0.1'),
}).strict();

/** Serves until SIGINT/SIGTERM; prints `serving <id> at <baseUrl>` once it accepts requests. */
export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(Flags, argv);
  if (positionals.length > 1) {
    console.error('usage: mlagent serve [CHECKPOINT] [--port 8000] [--host 127.0.0.1]');
    return 2;
  }
  const store = new ArtifactStore();
  const served = await resolveCheckpoint(store, positionals[0]);
  await initBackend();
  const t0 = Date.now();
  const policy = await loadServedPolicy(store, served);
  const c = policy.model.config;
  console.log(`[serve] ${policy.id}: checkpoint ${served.ref.sha256.slice(0, 12)}, ${c.num_hidden_layers} layers, context ${c.max_position_embeddings}${policy.mergedLora ? ', LoRA merged' : ''}, ${policy.renderer.template ? 'its chat template' : 'plain prompts (no chat template)'}; loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const server = await startPolicyServer({ policy, host: flags.host, port: flags.port, log: (l) => console.log(`[serve] ${l}`) });
  console.log(`serving ${policy.id} at ${server.baseUrl}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  policy.model.dispose();
  return 0;
}
