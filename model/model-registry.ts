import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ArtifactRef } from '../core/artifact-ref';
import { mlagentHome } from '../core/home';
import { describeIssues } from '../core/zod-issues';

/**
 * Named models: MLAGENT_HOME/models/<name>.json points at a checkpoint artifact. The record is written last and
 * by rename, so a name never points at a checkpoint that is not fully in the store.
 */

export const ModelName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/i, 'a model name is letters, digits, ".", "_", "-" (up to 100)');

export const ModelRecord = z.object({
  name: ModelName,
  checkpoint: ArtifactRef,
  /** where it came from: a GGUF file or HF directory with content hashes (also in the checkpoint's provenance.json) */
  source: z.record(z.string(), z.unknown()),
  importedAt: z.string(),
  parameters: z.number().int().nonnegative(),
});
export type ModelRecord = z.infer<typeof ModelRecord>;

const modelsDir = () => path.join(mlagentHome(), 'models');

export async function saveModelRecord(record: ModelRecord): Promise<void> {
  const r = ModelRecord.parse(record);
  await fs.mkdir(modelsDir(), { recursive: true });
  const dest = path.join(modelsDir(), `${r.name}.json`);
  const tmp = `${dest}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(r, null, 2) + '\n');
  await fs.rename(tmp, dest);
}

export async function loadModelRecord(name: string): Promise<ModelRecord | undefined> {
  const file = path.join(modelsDir(), `${ModelName.parse(name)}.json`);
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const r = ModelRecord.safeParse(raw);
  if (!r.success) throw new Error(`${file}: ${describeIssues(r.error)}`);
  return r.data;
}

export async function listModelRecords(): Promise<ModelRecord[]> {
  const names = await fs.readdir(modelsDir()).catch(() => [] as string[]);
  const records = await Promise.all(names.filter((n) => n.endsWith('.json')).sort().map((n) => loadModelRecord(n.slice(0, -5))));
  return records.filter((r): r is ModelRecord => r !== undefined);
}
