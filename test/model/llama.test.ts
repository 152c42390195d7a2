import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '../../model/backend';
import { checkpointFiles, modelFromFiles, tensorsToFile } from '../../model/checkpoint';
import { parseModelConfig, usesAttentionBias } from '../../model/config';
import { generate } from '../../model/generate';
import { importHfDir } from '../../model/hf-import';
import { Qwen2Model, parameterShapes } from '../../model/qwen2';
import { NamedTensor, encodeSafetensors } from '../../model/safetensors';
import { tinyConfig, tinyTokenizer } from './fixtures';

before(async () => { await initBackend(); });

const llama = (o: Record<string, unknown> = {}) => parseModelConfig({ ...tinyConfig(), architectures: ['LlamaForCausalLM'], model_type: 'llama', ...o });

test('attention biases follow the HF config: Qwen2 yes, Llama no, an explicit attention_bias wins; unknown architectures are rejected', { timeout: 10_000 }, () => {
  assert.equal(usesAttentionBias(parseModelConfig(tinyConfig())), true, 'configs naming no architecture are our Qwen2 checkpoints');
  assert.equal(usesAttentionBias(parseModelConfig({ ...tinyConfig(), model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'] })), true);
  assert.equal(usesAttentionBias(llama()), false);
  assert.equal(usesAttentionBias(llama({ attention_bias: true })), true);
  assert.ok(![...parameterShapes(llama()).keys()].some((n) => n.endsWith('_proj.bias')));
  assert.throws(() => parseModelConfig({ ...tinyConfig(), architectures: ['MistralForCausalLM'] }), /architecture \["MistralForCausalLM"\] is not supported/);
  assert.throws(() => llama({ rope_scaling: { type: 'llama3', factor: 8 } }), /rope_scaling/);
});

test('a Llama model (no biases) decodes with the KV cache exactly as without it, and saves/loads', { timeout: 60_000 }, () => {
  const tok = tinyTokenizer();
  const model = Qwen2Model.init(llama({ vocab_size: tok.vocabSize }), 5);
  const opts = { maxNewTokens: 12, temperature: 0, stopAtActionInput: false };
  const prompts = ['Thought: list the files', 'Observation: accuracy 0.81'];
  assert.deepEqual(generate(model, tok, prompts, opts).map((g) => g.tokens), generate(model, tok, prompts, { ...opts, useCache: false }).map((g) => g.tokens));
  const loaded = modelFromFiles(checkpointFiles(model, tok)).model;
  assert.deepEqual([...loaded.params.keys()].sort(), [...model.params.keys()].sort());
  model.dispose();
  loaded.dispose();
});

/** safetensors with BF16 tensors (values pre-rounded to bf16 by the caller, so the round trip is exact). */
function encodeBf16(tensors: Map<string, NamedTensor>): Buffer {
  const f32 = encodeSafetensors(tensors);
  const headLen = Number(f32.readBigUInt64LE(0));
  const header = JSON.parse(f32.subarray(8, 8 + headLen).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const bits = new Uint32Array(tensors.get(name)!.data.buffer.slice(0));
    const half = Buffer.from(Uint16Array.from(bits, (b) => b >>> 16).buffer);
    Object.assign(e, { dtype: 'BF16', data_offsets: [offset, offset + half.length] });
    parts.push(half);
    offset += half.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...parts]);
}

test('a sharded HF directory (F32 + BF16 shards, index file) imports with the same tensors', { timeout: 60_000 }, async () => {
  const tok = tinyTokenizer();
  const model = Qwen2Model.init(llama({ vocab_size: tok.vocabSize }), 9);
  const tensors = tensorsToFile(model.params);
  tensors.delete('value_head.weight'); // an HF checkpoint has no value head
  tensors.delete('value_head.bias');
  const names = [...tensors.keys()].sort();
  const second = new Map(names.slice(names.length / 2).map((n) => {
    const t = tensors.get(n)!;
    const bits = new Uint32Array(Float32Array.from(t.data).buffer).map((b) => b & 0xffff0000);
    return [n, { shape: t.shape, data: new Float32Array(bits.buffer) }];
  }));
  const first = new Map(names.slice(0, names.length / 2).map((n) => [n, tensors.get(n)!]));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-hf-'));
  fs.writeFileSync(path.join(dir, 'model-00001-of-00002.safetensors'), encodeSafetensors(first));
  fs.writeFileSync(path.join(dir, 'model-00002-of-00002.safetensors'), encodeBf16(second));
  const weightMap = Object.fromEntries([...first.keys()].map((n) => [n, 'model-00001-of-00002.safetensors']).concat([...second.keys()].map((n) => [n, 'model-00002-of-00002.safetensors'])));
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...model.config, torch_dtype: 'bfloat16' }));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tok.json));
  const { files, provenance } = await importHfDir(dir);
  assert.deepEqual(Object.keys(provenance.source.files).sort(), ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  const imported = modelFromFiles(files, dir).model;
  const expected = tensorsToFile(imported.params);
  for (const [n, t] of [...first, ...second]) assert.deepEqual(expected.get(n)!.data, t.data, `${n} differs after import`);
  fs.rmSync(path.join(dir, 'model-00002-of-00002.safetensors'));
  await assert.rejects(importHfDir(dir), /model-00002-of-00002\.safetensors/);
  model.dispose();
  imported.dispose();
});
