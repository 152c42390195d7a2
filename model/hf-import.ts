import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { describeIssues } from '../core/zod-issues';
import { CheckpointFiles, checkTensorsAgainstConfig } from './checkpoint';
import { parseModelConfig } from './config';
import { parameterShapes } from './qwen2';
import { NamedTensor, decodeSafetensors, encodeSafetensors } from './safetensors';
import { Tokenizer } from './tokenizer';

/**
 * A Hugging Face model directory (config.json, tokenizer.json, one model.safetensors or shards listed in
 * model.safetensors.index.json; F32/F16/BF16) → our checkpoint files: one F32 model.safetensors with the same
 * names. Checked in memory before anything is returned.
 */

const ShardIndex = z.object({ weight_map: z.record(z.string(), z.string()) }).passthrough();

async function readJson(file: string): Promise<unknown> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(err.code === 'ENOENT' ? `${file} missing` : `${file}: ${err.message}`);
  });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

async function shardNames(dir: string): Promise<string[]> {
  const single = path.join(dir, 'model.safetensors');
  if (await fs.stat(single).then(() => true, () => false)) return ['model.safetensors'];
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  const r = ShardIndex.safeParse(await readJson(indexFile));
  if (!r.success) throw new Error(`${indexFile}: ${describeIssues(r.error)}`);
  return [...new Set(Object.values(r.data.weight_map))].sort();
}

export interface HfProvenance {
  source: { kind: 'hf-dir'; dir: string; files: Record<string, string> }; // file → sha256
}

export async function importHfDir(dir: string): Promise<{ files: CheckpointFiles; provenance: HfProvenance }> {
  const root = path.resolve(dir);
  const hashes: Record<string, string> = {};
  const read = async (name: string) => {
    const bytes = await fs.readFile(path.join(root, name));
    hashes[name] = createHash('sha256').update(bytes).digest('hex');
    return bytes;
  };
  const config = parseModelConfig(await readJson(path.join(root, 'config.json')), `${root}/config.json`);
  const tokenizerRaw = await readJson(path.join(root, 'tokenizer.json'));
  Tokenizer.fromJson(tokenizerRaw, `${root}/tokenizer.json`); // rejects what our tokenizer cannot read
  const tensors = new Map<string, NamedTensor>();
  for (const shard of await shardNames(root)) {
    for (const [name, t] of decodeSafetensors(await read(shard), `${root}/${shard}`).tensors) {
      if (tensors.has(name)) throw new Error(`${root}: tensor ${name} is in more than one shard`);
      tensors.set(name, t);
    }
  }
  checkTensorsAgainstConfig(tensors, config, root);
  const known = new Set(parameterShapes(config).keys());
  const kept = new Map([...tensors].filter(([name]) => known.has(name))); // e.g. a tied checkpoint's redundant lm_head
  const json = (v: unknown) => Buffer.from(JSON.stringify(v, null, 2) + '\n');
  const provenance: HfProvenance = { source: { kind: 'hf-dir', dir: root, files: hashes } };
  const files: CheckpointFiles = new Map([
    ['config.json', json({ ...config, torch_dtype: 'float32' })],
    ['model.safetensors', encodeSafetensors(kept, { format: 'pt' })],
    ['tokenizer.json', Buffer.from(JSON.stringify(tokenizerRaw))],
    ['provenance.json', json(provenance)],
  ]);
  const tokConfig = path.join(root, 'tokenizer_config.json');
  if (await fs.stat(tokConfig).then(() => true, () => false)) files.set('tokenizer_config.json', await fs.readFile(tokConfig));
  return { files, provenance };
}
