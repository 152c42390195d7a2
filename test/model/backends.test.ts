import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import { activeDevice, availableBackends, initBackend, nativeTf, useBackend } from '../../model/backend';
import { backendLine, lastBackendLine } from '../../model/backend-log';
import { lmLoss } from '../../model/lm-loss';
import { Qwen2Model } from '../../model/qwen2';
import { tinyConfig } from './fixtures';

after(async () => { await useBackend(await initBackend()); });

test('every available backend computes the same loss and gradients (relative error ≤ 1e-4)', async () => {
  const backends = await availableBackends();
  console.log(`available tfjs backends: ${backends.join(', ')}`);
  assert.ok(backends.includes('tensorflow'), 'the native tensorflow backend is built (make setup → scripts/setup.d/50-tfjs.sh)');
  assert.ok(backends.includes('wasm') && backends.includes('cpu'));
  const batch = {
    ids: [[5, 9, 12, 40, 7, 3, 200, 31], [8, 8, 100, 2, 77, 0, 0, 0]],
    targets: [[9, 12, 40, 7, 3, 11, 31, 4], [8, 100, 2, 77, 6, 0, 0, 0]],
    weights: [[0, 1, 1, 0, 1, 1, 1, 1], [0, 1, 1, 1, 1, 0, 0, 0]],
    segments: [[1, 1, 1, 2, 2, 2, 2, 2], [1, 1, 1, 1, 1, 0, 0, 0]],
    positions: [[0, 1, 2, 0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 0, 0, 0]],
  };
  const results = new Map<string, { loss: number; grads: Map<string, Float32Array> }>();
  for (const b of backends) {
    await useBackend(b);
    const model = Qwen2Model.init(tinyConfig({ tie_word_embeddings: true }), 9);
    const { value, grads } = tf.variableGrads(() => lmLoss(model, batch), model.lmVariables());
    const names = [...model.params.keys()].filter((n) => !n.startsWith('value_head.'));
    const byName = new Map(names.map((n, i) => [n, Float32Array.from(grads[model.lmVariables()[i].name].dataSync() as Float32Array)]));
    results.set(b, { loss: value.dataSync()[0], grads: byName });
    tf.dispose([value, ...Object.values(grads)]);
    model.dispose();
  }
  const ref = results.get(backends[0])!;
  for (const [b, r] of results) {
    const lossErr = Math.abs(r.loss - ref.loss) / Math.abs(ref.loss);
    assert.ok(lossErr <= 1e-4, `${b}: loss ${r.loss} vs ${ref.loss}`);
    let worst = 0;
    for (const [name, g] of r.grads) {
      const gr = ref.grads.get(name)!;
      let num = 0, den = 0;
      g.forEach((x, i) => { num += (x - gr[i]) ** 2; den += gr[i] ** 2; });
      const rel = Math.sqrt(num / Math.max(den, 1e-30));
      worst = Math.max(worst, rel);
      assert.ok(rel <= 1e-4, `${b}: gradient of ${name} differs from ${backends[0]} by ${rel.toExponential(2)} (relative L2)`);
    }
    console.log(`${b}: loss ${r.loss.toFixed(6)} (rel err ${lossErr.toExponential(1)}), worst gradient rel err ${worst.toExponential(1)}`);
  }
});

test('the native backend is tfjs-node-gpu; the line naming backend and device is what `dev status` reads back', async () => {
  const lines: string[] = [];
  assert.equal(nativeTf().version.tfjs, tf.version.tfjs, 'tfjs-node-gpu matches @tensorflow/tfjs');
  // oneDNN's own pool keeps every buffer it ever held (model/backend.ts); unless a user chose otherwise it is off
  assert.equal(process.env.TF_ONEDNN_USE_SYSTEM_ALLOCATOR, '1');
  await useBackend('tensorflow');
  const device = activeDevice();
  // a GPU-less host (CI) computes on the CPU with the same build; a GPU host must report the GPU
  assert.equal(device, fs.existsSync('/proc/driver/nvidia/gpus') && fs.readdirSync('/proc/driver/nvidia/gpus').length > 0 ? 'GPU' : 'CPU');
  lines.push('other output', backendLine('wasm', 'CPU', 'glibc'), backendLine('tensorflow', device, 'tcmalloc'), 'later output');
  assert.equal(lastBackendLine(lines.join('\n')), `tensorflow on ${device}, malloc tcmalloc`);
  assert.equal(lastBackendLine('no such line'), undefined);
});
