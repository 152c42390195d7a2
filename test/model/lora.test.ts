import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../model/backend';
import { checkpointFiles, modelFromFiles } from '../../model/checkpoint';
import { LoraAdapters } from '../../model/lora';
import { LoraOptions } from '../../model/lora-config';
import { ForwardInput, Qwen2Model } from '../../model/qwen2';
import { tinyConfig, tinyTokenizer } from './fixtures';

before(async () => { await initBackend(); });

const inp: ForwardInput = {
  ids: [[5, 9, 12, 40, 7, 3], [8, 8, 100, 2, 0, 0]],
  segments: [[1, 1, 1, 2, 2, 2], [1, 1, 1, 1, 0, 0]],
  positions: [[0, 1, 2, 0, 1, 2], [0, 1, 2, 3, 0, 0]],
};
const logits = (m: Qwen2Model) => tf.tidy(() => m.logits(m.forward(inp).hidden).dataSync() as Float32Array);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((w, x, i) => Math.max(w, Math.abs(x - b[i])), 0);
const options = LoraOptions.parse({ r: 4, alpha: 16, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });

test('LoRA options are strict and default to all seven projections', () => {
  assert.deepEqual(LoraOptions.parse({}).targetModules, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
  assert.throws(() => LoraOptions.parse({ r: 8, rank: 8 }), /rank/);
  assert.throws(() => LoraOptions.parse({ targetModules: ['qkv'] }));
});

test('fresh adapters (B = 0) leave the logits unchanged; A is kaiming-uniform like PEFT', { timeout: 60_000 }, () => {
  const model = Qwen2Model.init(tinyConfig(), 1);
  const before = logits(model);
  const adapters = LoraAdapters.init(model, options, 2);
  model.adapters = adapters;
  assert.equal(maxDiff(before, logits(model)), 0);
  const a = adapters.namedVariables().get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')!;
  assert.deepEqual(a.shape, [96, 4]); // in memory [in, r]
  const v = a.dataSync() as Float32Array, bound = 1 / Math.sqrt(96);
  assert.ok(v.every((x) => Math.abs(x) <= bound) && Math.max(...v.map(Math.abs)) > 0.8 * bound);
  model.dispose();
  adapters.dispose();
});

test('PEFT files: save → load → merge gives the same logits; file layout and config are PEFT\'s', { timeout: 60_000 }, () => {
  const model = Qwen2Model.init(tinyConfig(), 1);
  const adapters = LoraAdapters.init(model, options, 2);
  for (const [name, v] of adapters.namedVariables()) if (name.includes('lora_B')) v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', 3));
  model.adapters = adapters;
  const withAdapters = logits(model);
  assert.ok(maxDiff(withAdapters, (() => { model.adapters = undefined; const l = logits(model); model.adapters = adapters; return l; })()) > 1e-3, 'the adapters change the logits');

  const files = checkpointFiles(model, tinyTokenizer());
  for (const [n, d] of adapters.files('tiny-base')) files.set(n, d);
  const config = JSON.parse(files.get('adapter_config.json')!.toString());
  assert.equal(config.peft_type, 'LORA');
  assert.equal(config.task_type, 'CAUSAL_LM');
  assert.equal(config.base_model_name_or_path, 'tiny-base');
  assert.deepEqual([config.r, config.lora_alpha, config.lora_dropout], [4, 16, 0]);
  const st = files.get('adapter_model.safetensors')!;
  const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString());
  assert.deepEqual(header['base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight'].shape, [4, 64]); // [r, in]
  assert.deepEqual(header['base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight'].shape, [32, 4]); // [out, r]
  assert.equal(Object.keys(header).filter((k) => k !== '__metadata__').length, 2 * 7 * 2);

  const { model: loaded } = modelFromFiles(files);
  const reloaded = LoraAdapters.fromFiles(loaded, files);
  loaded.adapters = reloaded;
  assert.ok(maxDiff(withAdapters, logits(loaded)) < 1e-6, 'reloaded adapters');
  reloaded.mergeInto(loaded);
  assert.equal(loaded.adapters, undefined);
  const merged = maxDiff(withAdapters, logits(loaded));
  assert.ok(merged < 1e-5, `merged weights differ by ${merged}`);
  for (const m of [model, loaded]) m.dispose();
  adapters.dispose();
  reloaded.dispose();
});

test('unsupported PEFT variants are rejected, not ignored', () => {
  const model = Qwen2Model.init(tinyConfig(), 1);
  const adapters = LoraAdapters.init(model, options, 2);
  const files = adapters.files('x');
  const cfg = JSON.parse(files.get('adapter_config.json')!.toString());
  files.set('adapter_config.json', Buffer.from(JSON.stringify({ ...cfg, use_dora: true })));
  assert.throws(() => LoraAdapters.fromFiles(model, files), /use_dora/);
  model.dispose();
  adapters.dispose();
});
