import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifact-store';
import { CheckpointFiles, putCheckpoint } from '../../model/checkpoint';
import { parseModelConfig } from '../../model/config';
import { importGguf } from '../../model/gguf-import';
import { importHfDir } from '../../model/hf-import';
import { ModelName, listModelRecords, loadModelRecord, saveModelRecord } from '../../model/model-registry';
import { parameterShapes } from '../../model/qwen2';
import { parseFlags } from '../flags';

export const describe = 'pretrained models: model import <file.gguf | hf-dir> [--name N] | model list';

const usage = 'usage: mlagent model import <file.gguf | hf-dir> [--name N]\n       mlagent model list [--json]';

const ImportFlags = z.object({ name: ModelName.optional() }).strict();
const ListFlags = z.object({ json: z.boolean().optional() }).strict();

const parameterCount = (files: CheckpointFiles) =>
  [...parameterShapes(parseModelConfig(JSON.parse(files.get('config.json')!.toString('utf8'))))]
    .filter(([n]) => !n.startsWith('value_head.'))
    .reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);

async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

async function importModel(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(ImportFlags, argv);
  if (positionals.length !== 1) { console.error(usage); return 2; }
  const src = path.resolve(positionals[0]);
  const stat = await fs.stat(src).catch(() => undefined);
  if (!stat) throw new Error(`${src} does not exist`);
  const name = flags.name ?? path.basename(src).replace(/\.gguf$/i, '').toLowerCase().replace(/[^a-z0-9._-]/g, '-');
  const store = new ArtifactStore();
  // a GGUF already imported under this name (same bytes, checkpoint in the store) needs no second dequantization
  const existing = await loadModelRecord(name);
  if (existing && stat.isFile() && existing.source.sha256 === (await sha256File(src)) && (await fs.stat(store.pathOf(existing.checkpoint)).then((st) => st.size === existing.checkpoint.size, () => false))) {
    console.log(`${name}: already imported from ${src} (checkpoint ${existing.checkpoint.sha256.slice(0, 12)})`);
    return 0;
  }
  const t0 = Date.now();
  const { files, provenance } = stat.isDirectory() ? await importHfDir(src) : await importGguf(src);
  const checkpoint = await putCheckpoint(store, files);
  const parameters = parameterCount(files);
  await saveModelRecord({ name, checkpoint, source: provenance.source, importedAt: new Date().toISOString(), parameters });
  const quant = 'quantTypes' in provenance ? ` (${Object.entries(provenance.quantTypes).map(([t, n]) => `${n}×${t}`).join(', ')})` : '';
  console.log(`${name}: ${parameters.toLocaleString('en')} parameters from ${src}${quant} → checkpoint ${checkpoint.sha256.slice(0, 12)} (${(checkpoint.size / 2 ** 20).toFixed(0)} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const { flags } = parseFlags(ListFlags, argv);
  const records = await listModelRecords();
  if (flags.json) { console.log(JSON.stringify(records, null, 2)); return 0; }
  if (records.length === 0) console.log('no models imported (mlagent model import <file.gguf | hf-dir> --name N)');
  for (const r of records) console.log(`${r.name.padEnd(28)} ${(r.parameters / 1e6).toFixed(1).padStart(7)}M  checkpoint ${r.checkpoint.sha256.slice(0, 12)}  ${String(r.source.file ?? r.source.dir ?? '')}`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'import') return importModel(rest);
  if (sub === 'list') return list(rest);
  console.error(usage);
  return 2;
}
