import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../model/backend';
import { checkpointFiles, modelFromFiles, readCheckpointDir, writeCheckpointDir } from '../../model/checkpoint';
import { Qwen2Model } from '../../model/qwen2';
import { pythonRef, tinyConfig, tinyTokenizer } from './fixtures';

before(async () => { await initBackend(); });

function jsLogits(model: Qwen2Model, ids: number[][]): number[][][] {
  return tf.tidy(() => {
    const r = model.forward({ ids, segments: ids.map((row) => row.map(() => 1)), positions: ids.map((row) => row.map((_, i) => i)) });
    return model.logits(r.hidden).arraySync() as number[][][];
  });
}

function maxAbsDiff(a: number[][][], b: number[][][]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((y, j) => y.forEach((v, k) => (m = Math.max(m, Math.abs(v - b[i][j][k]))))));
  return m;
}

const ids = [Array.from({ length: 48 }, (_, i) => (i * 37 + 5) % 320), Array.from({ length: 48 }, (_, i) => (i * i + 11) % 320)];

for (const tied of [false, true]) {
  test(`logits match the PyTorch reference on our checkpoint (tied=${tied})`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-parity-'));
    const model = Qwen2Model.init(tinyConfig({ tie_word_embeddings: tied }), 7);
    // scale up the random weights so logits are O(1) and a layout mistake cannot hide under tiny values
    for (const v of model.params.values()) if (v.rank === 2) v.assign(v.mul(5));
    await writeCheckpointDir(dir, checkpointFiles(model, tinyTokenizer()));
    fs.writeFileSync(path.join(dir, 'ids.json'), JSON.stringify(ids));
    pythonRef(['logits', dir, path.join(dir, 'ids.json'), path.join(dir, 'ref.json')]);
    const diff = maxAbsDiff(jsLogits(model, ids), JSON.parse(fs.readFileSync(path.join(dir, 'ref.json'), 'utf8')));
    console.log(`parity tied=${tied}: max |Δlogit| = ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-4, `max abs logit difference ${diff} > 1e-4`);
    model.dispose();
  });
}

test('a checkpoint written by the Python reference (HF layout) loads and matches its logits', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-parity-py-'));
  fs.writeFileSync(path.join(dir, 'cfg.json'), JSON.stringify(tinyConfig()));
  pythonRef(['init', path.join(dir, 'cfg.json'), '3', dir]);
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizer().json));
  fs.writeFileSync(path.join(dir, 'ids.json'), JSON.stringify(ids));
  pythonRef(['logits', dir, path.join(dir, 'ids.json'), path.join(dir, 'ref.json')]);
  const { model } = modelFromFiles(await readCheckpointDir(dir), dir);
  const ref = JSON.parse(fs.readFileSync(path.join(dir, 'ref.json'), 'utf8')) as number[][][];
  const diff = maxAbsDiff(jsLogits(model, ids), ref);
  console.log(`parity (python-written checkpoint): max |Δlogit| = ${diff.toExponential(2)}, logit scale ${Math.max(...ref[0][0].map(Math.abs)).toFixed(2)}`);
  assert.ok(diff <= 1e-4, `max abs logit difference ${diff} > 1e-4`);
  model.dispose();
});
