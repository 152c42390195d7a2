import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ownedVariable } from './variables';
import { pack, extract } from 'tar-stream';
import { ArtifactRef } from '../core/artifact-ref';
import { ArtifactStore } from '../activities/artifact-store';
import { ModelConfig, parseModelConfig } from './config';
import { NamedTensor, decodeSafetensors, encodeSafetensors } from './safetensors';
import { Tokenizer } from './tokenizer';
import { Qwen2Model, isTransposedInFile, parameterShapes } from './qwen2';

/** A checkpoint as files: model.safetensors, config.json, tokenizer.json (+ tokenizer_config.json, provenance.json of an imported base; optimizer state while training). */
export type CheckpointFiles = Map<string, Buffer>;

const REQUIRED = ['config.json', 'model.safetensors', 'tokenizer.json'];

function transpose2d(t: NamedTensor): NamedTensor {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return { shape: [c, r], data: out };
}

/** Tensors a config needs are all there with HF shapes; value_head.* may be absent (modelFromFiles adds it). */
export function checkTensorsAgainstConfig(tensors: Map<string, NamedTensor>, config: ModelConfig, source: string): void {
  const missing: string[] = [];
  for (const [name, shape] of parameterShapes(config)) {
    const t = tensors.get(name);
    if (!t) { if (!name.startsWith('value_head.')) missing.push(name); continue; }
    const want = isTransposedInFile(name) ? [...shape].reverse() : shape;
    if (t.shape.join() !== want.join()) throw new Error(`${source}: tensor ${name} has shape [${t.shape}], config needs [${want}]`);
  }
  if (missing.length) throw new Error(`${source}: ${missing.length} tensor(s) missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
}

/** Variables → HF-layout tensors. */
export function tensorsToFile(vars: Map<string, tf.Tensor>): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const [name, v] of vars) {
    const t = { shape: v.shape, data: v.dataSync() as Float32Array };
    out.set(name, isTransposedInFile(name) && t.shape.length === 2 ? transpose2d(t) : { shape: [...t.shape], data: Float32Array.from(t.data) });
  }
  return out;
}

/**
 * Files of the base a trained checkpoint carries over unchanged: the chat template and special tokens
 * (tokenizer_config.json), which acting renders prompts with, and where the weights came from (provenance.json).
 */
export const KEPT_FROM_BASE = ['tokenizer_config.json', 'provenance.json', 'special_tokens_map.json', 'generation_config.json'];

/** Only the files of `files` that trained checkpoints keep (`KEPT_FROM_BASE`): what a trainer holds on to once its tensors are built. */
export function keptFromBase(files: CheckpointFiles): CheckpointFiles {
  return new Map([...files].filter(([name]) => KEPT_FROM_BASE.includes(name)));
}

/** The model's own files, plus `KEPT_FROM_BASE` from the checkpoint it was trained from (when there was one). */
export function checkpointFiles(model: Qwen2Model, tokenizer: Tokenizer, base?: CheckpointFiles): CheckpointFiles {
  const files: CheckpointFiles = new Map([
    ['config.json', Buffer.from(JSON.stringify(model.config, null, 2) + '\n')],
    ['model.safetensors', encodeSafetensors(tensorsToFile(model.params), { format: 'pt' })],
    ['tokenizer.json', Buffer.from(JSON.stringify(tokenizer.json))],
  ]);
  for (const [name, kept] of base ? keptFromBase(base) : []) files.set(name, kept);
  return files;
}

/**
 * Builds the model from checkpoint files, checking every tensor against the config. A Qwen2 checkpoint without
 * a value head (any HF one) gets a zero-initialised head; tied checkpoints may omit lm_head.weight.
 */
export function modelFromFiles(files: CheckpointFiles, source = 'checkpoint'): { model: Qwen2Model; tokenizer: Tokenizer } {
  for (const f of REQUIRED) if (!files.has(f)) throw new Error(`${source}: ${f} missing (a checkpoint needs ${REQUIRED.join(', ')})`);
  const config = parseModelConfig(parseJson(files.get('config.json')!, `${source}/config.json`), `${source}/config.json`);
  const eos = typeof config.eos_token_id === 'number' ? config.eos_token_id : undefined; // HF configs may list several; one is used
  const tokenizer = Tokenizer.fromJson(parseJson(files.get('tokenizer.json')!, `${source}/tokenizer.json`), `${source}/tokenizer.json`, eos);
  if (tokenizer.vocabSize > config.vocab_size) throw new Error(`${source}: tokenizer has ${tokenizer.vocabSize} tokens but vocab_size is ${config.vocab_size}`);
  const { tensors } = decodeSafetensors(files.get('model.safetensors')!, `${source}/model.safetensors`);
  const params = new Map<string, tf.Variable>();
  const missing: string[] = [];
  for (const [name, shape] of parameterShapes(config)) {
    let t = tensors.get(name);
    if (!t && name.startsWith('value_head.')) t = { shape: [...shape].reverse(), data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
    if (!t) { missing.push(name); continue; }
    const mem = isTransposedInFile(name) ? transpose2d(t) : t;
    if (mem.shape.join() !== shape.join()) throw new Error(`${source}: tensor ${name} has shape [${t.shape}] in the file, config needs [${isTransposedInFile(name) ? [...shape].reverse() : shape}]`);
    params.set(name, ownedVariable(tf.tensor(mem.data, shape), true));
  }
  if (missing.length) {
    for (const v of params.values()) v.dispose();
    throw new Error(`${source}: model.safetensors lacks ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  }
  return { model: new Qwen2Model(config, params), tokenizer };
}

function parseJson(buf: Buffer, source: string): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message}); the checkpoint is corrupt or truncated`);
  }
}

export async function writeCheckpointDir(dir: string, files: CheckpointFiles): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const [name, data] of files) await fs.writeFile(path.join(dir, name), data);
}

/** Reads a checkpoint directory (ours or a Python-ecosystem Qwen2 one). */
export async function readCheckpointDir(dir: string): Promise<CheckpointFiles> {
  const files: CheckpointFiles = new Map();
  for (const name of await fs.readdir(dir)) {
    if (name.endsWith('.json') || name.endsWith('.safetensors')) files.set(name, await fs.readFile(path.join(dir, name)));
  }
  return files;
}

/** Deterministic tar (sorted names, zero mtimes), so equal checkpoints have equal artifact hashes. */
export async function packFiles(files: CheckpointFiles): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => { p.on('end', resolve); p.on('error', reject); });
  for (const name of [...files.keys()].sort()) p.entry({ name, mtime: new Date(0), mode: 0o644 }, files.get(name)!);
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export async function unpackFiles(tar: Buffer, source = 'checkpoint'): Promise<CheckpointFiles> {
  const files: CheckpointFiles = new Map();
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (c) => parts.push(c as Buffer));
      stream.on('end', () => { files.set(header.name, Buffer.concat(parts)); next(); });
      stream.on('error', reject);
    });
    ex.on('finish', resolve);
    ex.on('error', (err: Error) => reject(new Error(`${source}: corrupt tar (${err.message})`)));
  });
  ex.end(tar);
  await done;
  return files;
}

export async function putCheckpoint(store: ArtifactStore, files: CheckpointFiles): Promise<ArtifactRef> {
  return store.put(await packFiles(files), 'checkpoint');
}

export async function getCheckpoint(store: ArtifactStore, ref: ArtifactRef): Promise<CheckpointFiles> {
  return unpackFiles(await store.get(ref), `checkpoint ${ref.sha256.slice(0, 12)}`);
}
