import fs from 'node:fs/promises';
import path from 'node:path';
import { ArtifactRef } from '../core/artifact-ref';
import type { ArtifactStore } from '../activities/artifact-store';
import { ModelName, loadModelRecord } from './model-registry';
import { DEFAULT_BASE_MODEL } from './sft-params';

/** A checkpoint to serve and the model id clients name it by. */
export interface ServedCheckpoint { id: string; ref: ArtifactRef }

/**
 * What `mlagent serve [CHECKPOINT]`, `evaluate --checkpoint` and `bench actions` name: an artifact ref as JSON (what
 * a workflow result prints), a sha256 or a unique prefix of one (≥ 8 hex digits, as `mlagent model list` shows 12),
 * or an imported model's name;
 * nothing means the imported default. Registered names win over hex prefixes that happen to look alike.
 */
export async function resolveCheckpoint(store: ArtifactStore, spec: string | undefined): Promise<ServedCheckpoint> {
  const given = spec?.trim() || DEFAULT_BASE_MODEL;
  if (given.startsWith('{')) {
    const parsed = ArtifactRef.safeParse(parseJsonOrUndefined(given));
    if (!parsed.success) throw new Error(`CHECKPOINT ${given}: not an artifact ref {sha256, size, kind}`);
    return { id: `checkpoint-${parsed.data.sha256.slice(0, 12)}`, ref: parsed.data };
  }
  const record = ModelName.safeParse(given).success ? await loadModelRecord(given) : undefined;
  if (record) return { id: record.name, ref: record.checkpoint };
  if (/^[0-9a-f]{8,64}$/i.test(given)) {
    const sha256 = await expandPrefix(store, given.toLowerCase());
    const { size } = await fs.stat(store.pathOf({ sha256 }));
    return { id: `checkpoint-${sha256.slice(0, 12)}`, ref: { sha256, size, kind: 'checkpoint' } };
  }
  const hint = given === DEFAULT_BASE_MODEL ? 'run `make setup`, which imports it' : 'see `mlagent model list`, or give a checkpoint sha256';
  throw new Error(`CHECKPOINT ${given}: no imported model of that name in MLAGENT_HOME/models: ${hint}`);
}

async function expandPrefix(store: ArtifactStore, prefix: string): Promise<string> {
  const dir = path.dirname(store.pathOf({ sha256: prefix.padEnd(64, '0') }));
  const matches = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(prefix) && /^[0-9a-f]{64}$/.test(n));
  if (matches.length === 1) return matches[0]!;
  throw new Error(matches.length === 0 ? `CHECKPOINT ${prefix}: no artifact with that sha256 in ${store.root}` : `CHECKPOINT ${prefix}: ambiguous, ${matches.length} artifacts start with it`);
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
