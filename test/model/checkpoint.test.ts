import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import { initBackend } from '../../model/backend';
import { checkpointFiles, getCheckpoint, modelFromFiles, putCheckpoint, readCheckpointDir, writeCheckpointDir } from '../../model/checkpoint';
import { Qwen2Model } from '../../model/qwen2';
import { tinyConfig, tinyTokenizer } from './fixtures';

before(async () => { await initBackend(); });

test('save → load → save is bit-identical (directory and artifact store)', async () => {
  const tok = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig(), 11);
  const files = checkpointFiles(model, tok);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-ckpt-'));
  await writeCheckpointDir(dir, files);
  const loaded = modelFromFiles(await readCheckpointDir(dir), dir);
  for (const [name, v] of model.params) {
    const a = Buffer.from((v.dataSync() as Float32Array).buffer), b = Buffer.from((loaded.model.p(name).dataSync() as Float32Array).buffer);
    assert.ok(a.equals(b), `${name} differs after load`);
  }
  const again = checkpointFiles(loaded.model, loaded.tokenizer);
  for (const [name, bytes] of files) assert.ok(bytes.equals(again.get(name)!), `${name} bytes differ after a round trip`);
  process.env.MLAGENT_HOME = dir;
  const store = new ArtifactStore();
  const ref = await putCheckpoint(store, files);
  assert.equal((await putCheckpoint(store, again)).sha256, ref.sha256, 'equal checkpoints have equal artifact hashes');
  const back = await getCheckpoint(store, ref);
  for (const [name, bytes] of files) assert.ok(bytes.equals(back.get(name)!), `${name} differs after the artifact store`);
  model.dispose();
  loaded.model.dispose();
});

test('a truncated or corrupt checkpoint is rejected with a clear error', () => {
  const model = Qwen2Model.init(tinyConfig(), 1);
  const files = checkpointFiles(model, tinyTokenizer());
  const st = files.get('model.safetensors')!;
  const variant = (name: string, data: Buffer) => new Map([...files, [name, data]]);
  assert.throws(() => modelFromFiles(variant('model.safetensors', st.subarray(0, st.length - 100))), /model\.safetensors: truncated/);
  assert.throws(() => modelFromFiles(variant('model.safetensors', st.subarray(0, 5))), /truncated/);
  const badHeader = Buffer.from(st);
  badHeader.write('#', 12);
  assert.throws(() => modelFromFiles(variant('model.safetensors', badHeader)), /corrupt header/);
  assert.throws(() => modelFromFiles(variant('config.json', Buffer.from('{"hidden_size": 64'))), /config\.json: not valid JSON/);
  assert.throws(() => modelFromFiles(variant('config.json', Buffer.from(JSON.stringify({ ...tinyConfig(), num_key_value_heads: 3 })))), /num_key_value_heads/);
  assert.throws(() => modelFromFiles(variant('config.json', Buffer.from(JSON.stringify({ ...tinyConfig(), hidden_size: 128 })))), /has shape .* config needs/);
  const noTok = new Map(files);
  noTok.delete('tokenizer.json');
  assert.throws(() => modelFromFiles(noTok), /tokenizer\.json missing/);
  model.dispose();
});
