import fs from 'node:fs';
import path from 'node:path';
import { ArtifactStore } from '../activities/artifact-store';
import { activeDevice, initBackend } from './backend';
import { getCheckpoint, modelFromFiles } from './checkpoint';
import { loadModelRecord } from './model-registry';
import { AdamW } from './optim';
import { DEFAULT_BASE_MODEL, SftInput } from './sft-params';
import { trainStep } from './sft-trainer';

/**
 * `scripts/gpu-check.sh`: on a GPU host, confirms that the native backend computes on the GPU and times one SFT
 * step of the default base model at the demo preset's batch and sequence length. Exits 1 when TensorFlow finds
 * no GPU (a CPU-only host, a missing driver or CUDA libraries), saying so.
 */
async function main(): Promise<number> {
  const backend = await initBackend();
  const device = activeDevice();
  if (device !== 'GPU') {
    console.error(`gpu-check: no GPU found — tfjs backend '${backend}' computes on the CPU. On a GPU host: the NVIDIA driver must be loaded (nvidia-smi works), then \`MLAGENT_GPU=1 bash scripts/setup.d/50-tfjs.sh\` installs the CUDA libraries.`);
    return 1;
  }
  const demo = JSON.parse(fs.readFileSync(path.join(__dirname, '../temporal-config/examples/demo.json'), 'utf8'));
  const { batchSize: batch, seqLen: seq, microBatchSize: micro } = SftInput.pick({ batchSize: true, seqLen: true, microBatchSize: true }).parse(demo.sft);
  const record = await loadModelRecord(DEFAULT_BASE_MODEL);
  if (!record) throw new Error(`model ${DEFAULT_BASE_MODEL} is not imported: run make setup`);
  const { model } = modelFromFiles(await getCheckpoint(new ArtifactStore(), record.checkpoint), DEFAULT_BASE_MODEL);
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 });
  const row = (b: number) => Array.from({ length: seq + 1 }, (_, i) => (i * 7919 + b * 104729) % model.config.vocab_size);
  const rows = Array.from({ length: batch }, (_, b) => row(b));
  const tokenBatch = {
    ids: rows.map((r) => r.slice(0, seq)), targets: rows.map((r) => r.slice(1)), weights: rows.map(() => Array(seq).fill(1)),
    segments: rows.map(() => Array(seq).fill(1)), positions: rows.map(() => Array.from({ length: seq }, (_, i) => i)),
  };
  const step = async () => {
    const t0 = Date.now();
    await trainStep({ model, optimizer, batch: tokenBatch, lr: 1e-5, clipNorm: 1, microBatchSize: micro });
    return (Date.now() - t0) / 1000;
  };
  const first = await step(); // kernel setup and autotuning
  const s = await step();
  console.log(`gpu-check: tfjs backend '${backend}' on GPU; one SFT step of ${DEFAULT_BASE_MODEL} (${model.parameterCount()} params, batch ${batch} × ${seq}, micro-batch ${micro ?? batch}): ${s.toFixed(2)} s (${((batch * seq) / s).toFixed(0)} tokens/s; first step ${first.toFixed(1)} s)`);
  model.dispose();
  optimizer.dispose();
  return 0;
}

main().then((code) => process.exit(code), (err) => { console.error(`gpu-check: ${(err as Error).message}`); process.exit(2); });
