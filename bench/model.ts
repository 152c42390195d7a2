import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendName, availableBackends, useBackend } from '../model/backend';
import { DEFAULT_CPU_CONFIG } from '../model/config';
import { generate } from '../model/generate';
import { AdamW } from '../model/optim';
import { Qwen2Model } from '../model/qwen2';
import { Tokenizer } from '../model/tokenizer';
import { trainStep } from '../model/sft-trainer';
import { ArtifactStore } from '../activities/artifact-store';
import { ChatTemplate } from '../model/chat-template';
import { getCheckpoint, modelFromFiles, type CheckpointFiles } from '../model/checkpoint';
import { PromptRenderer } from '../model/chat-prompt';
import { loadModelRecord } from '../model/model-registry';
import { LoraAdapters } from '../model/lora';
import { LoraOptions } from '../model/lora-config';
import { evalLoss } from '../model/sft-trainer';
import { packExamples, parseSftJsonl, tokenizeExample, type PackedRow } from '../model/sft-data';
import { GenerationComparison, compareWithLlamaCpp, describeComparison } from './support/llamacpp-comparison';

/**
 * `mlagent bench model [--json] [--backend NAME] [--model NAME]`: the default CPU config's training tokens/s (forward, backward, clipping,
 * AdamW) and generation tokens/s with and without the KV cache on every available backend, against the same
 * architecture in PyTorch on CPU (Debian's python3-torch) measured in the same run. With `--model`, an imported
 * model (`mlagent model import`) instead: checkpoint load time and batch-1 greedy generation on a chat prompt;
 * with `--train-batch B --seq T` also SFT training on it (see `benchTrainImported`; `--no-generate` skips generation),
 * against PyTorch from PyPI (newest; model/reference/torch-venv.sh) and Debian's, on the same batches.
 * Its generation is also compared with llama.cpp on the GGUF file it was imported from (batch 1 and 8, same prompt
 * ids; `support/llamacpp-comparison.ts`), each side in its own process for its own peak RSS.
 */

/** Slow backends get smaller workloads so the run stays within minutes; tokens/s are comparable anyway. */
const WORK: Record<BackendName, { batch: number; seq: number; steps: number; genTokens: number; promptTokens: number }> = {
  tensorflow: { batch: 8, seq: 256, steps: 3, genTokens: 256, promptTokens: 256 },
  wasm: { batch: 2, seq: 256, steps: 1, genTokens: 64, promptTokens: 256 },
  cpu: { batch: 1, seq: 64, steps: 1, genTokens: 4, promptTokens: 32 },
};

function seconds<T>(f: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const r = f();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}

async function benchBackend(b: BackendName, tokenizer: Tokenizer, text: string) {
  const w = WORK[b];
  // agent prompts (task, history, observations) are long
  const prompt = tokenizer.decode(tokenizer.encode(text).slice(0, w.promptTokens));
  const model = Qwen2Model.init(DEFAULT_CPU_CONFIG, 0);
  const parameters = model.parameterCount();
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 });
  const row = Array.from({ length: w.seq + 1 }, (_, i) => (i * 7919) % DEFAULT_CPU_CONFIG.vocab_size);
  const batch = {
    ids: Array.from({ length: w.batch }, () => row.slice(0, w.seq)),
    targets: Array.from({ length: w.batch }, () => row.slice(1)),
    weights: Array.from({ length: w.batch }, () => Array(w.seq).fill(1)),
    segments: Array.from({ length: w.batch }, () => Array(w.seq).fill(1)),
    positions: Array.from({ length: w.batch }, () => Array.from({ length: w.seq }, (_, i) => i)),
  };
  await trainStep({ model, optimizer, batch, lr: 1e-4, clipNorm: 1 }); // warm-up (kernel setup)
  const [, trainS] = await secondsAsync(async () => { for (let i = 0; i < w.steps; i++) await trainStep({ model, optimizer, batch, lr: 1e-4, clipNorm: 1 }); });
  const gen = (useCache: boolean) => {
    const [g, s] = seconds(() => generate(model, tokenizer, [prompt], { maxNewTokens: w.genTokens, temperature: 0, stopAtActionInput: false, ignoreEos: true, useCache }));
    return g[0].tokens.length / s;
  };
  gen(true); // warm-up
  const cached = gen(true);
  const uncached = gen(false);
  model.dispose();
  optimizer.dispose();
  return { parameters, trainTokensPerS: (w.batch * w.seq * w.steps) / trainS, genTokensPerS: { cached, uncached }, kvSpeedup: cached / uncached, workload: w };
}

const PRETRAINED_WORK = { genTokens: 128, uncachedTokens: 16, promptTokens: 256 };

async function benchImported(name: string, text: string) {
  const record = await loadModelRecord(name);
  if (!record) throw new Error(`no model named ${name} (mlagent model list; mlagent model import …)`);
  const [files, fetchS] = await secondsAsync(() => getCheckpoint(new ArtifactStore(), record.checkpoint));
  const [{ model, tokenizer }, buildS] = seconds(() => modelFromFiles(files, name));
  const template = ChatTemplate.fromCheckpoint(files, name);
  const user = `Summarise this file:\n${tokenizer.decode(tokenizer.encode(text).slice(0, PRETRAINED_WORK.promptTokens - 30))}`;
  const prompt = template ? template.render([{ role: 'user', content: user }], { addGenerationPrompt: true }) : user;
  const gen = (maxNewTokens: number, useCache: boolean) => {
    const [g, s] = seconds(() => generate(model, tokenizer, [prompt], { maxNewTokens, temperature: 0, stopAtActionInput: false, ignoreEos: true, useCache }));
    return g[0].tokens.length / s;
  };
  gen(4, true); // warm-up
  const result = {
    parameters: model.parameterCount(),
    loadS: { artifact: fetchS, build: buildS },
    promptTokens: tokenizer.encode(prompt).length,
    genTokensPerS: { cached: gen(PRETRAINED_WORK.genTokens, true), uncached: gen(PRETRAINED_WORK.uncachedTokens, false) },
    workload: PRETRAINED_WORK,
  };
  model.dispose();
  return result;
}

/** Training workload on an imported model: flags `--train-batch --seq --micro --lora R --lr --train-seconds --steps --dataset SHA256`. */
export interface TrainWork { batch: number; seq: number; micro: number; loraRank?: number; lr: number; seconds?: number; steps: number; dataset?: string }

function trainWork(argv: string[]): TrainWork | undefined {
  const flag = (name: string) => { const i = argv.indexOf(name); return i < 0 ? undefined : Number(argv[i + 1]); };
  const batch = flag('--train-batch');
  if (batch === undefined) return undefined;
  const loraRank = flag('--lora');
  const d = argv.indexOf('--dataset');
  const dataset = d < 0 ? undefined : argv[d + 1];
  if (dataset !== undefined && !/^[0-9a-f]{64}$/.test(dataset)) throw new Error(`bench model: --dataset takes the sha256 of an SFT dataset in the artifact store (a collection's \`sft\` ref), not '${dataset}'`);
  return { batch, seq: flag('--seq') ?? 1024, micro: flag('--micro') ?? 1, loraRank, lr: flag('--lr') ?? (loraRank ? 1e-3 : 1e-4), seconds: flag('--train-seconds'), steps: flag('--steps') ?? 3, dataset };
}

/** Consecutive windows of seq+1 tokens of `text`, every token trained (next-token loss on real repository text). */
function textRows(tokenizer: Tokenizer, text: string, seq: number): PackedRow[] {
  const ids = tokenizer.encode(text);
  const rows: PackedRow[] = [];
  for (let s = 0; s + seq + 1 <= ids.length; s += seq)
    rows.push({ ids: ids.slice(s, s + seq), targets: ids.slice(s + 1, s + seq + 1), weights: Array(seq).fill(1), segments: Array(seq).fill(1), positions: Array.from({ length: seq }, (_, i) => i) });
  return rows;
}

/**
 * An SFT dataset's examples rendered and packed as the SFT stage does (the model's chat template, the history fitted
 * to `seq`, response tokens weighted): the demo's real batches, where most positions are prompt.
 */
async function datasetRows(p: { sha256: string; files: CheckpointFiles; tokenizer: Tokenizer; seq: number }): Promise<PackedRow[]> {
  const store = new ArtifactStore();
  const ref = { sha256: p.sha256, size: (await fs.promises.stat(store.pathOf(p)).catch(() => { throw new Error(`bench model: no artifact ${p.sha256} in ${store.root}`); })).size, kind: 'sft-dataset' };
  const examples = parseSftJsonl((await store.get(ref)).toString('utf8'), `dataset ${p.sha256.slice(0, 12)}`);
  const renderer = PromptRenderer.forCheckpoint(p.files, p.tokenizer, 'bench');
  return packExamples(examples.map((example, i) => tokenizeExample({ renderer, tokenizer: p.tokenizer, example, seqLen: p.seq, source: `example ${i + 1}` })), p.seq);
}

/**
 * SFT steps (checkpointed layers, micro-batches, clipping, AdamW; LoRA on all seven projections with `--lora R`,
 * alpha 2R) on windows of repository text, every token trained, or with `--dataset SHA256` on an SFT dataset's
 * packed rows (response tokens trained): tokens/s (every position of the rows) after the first (warm-up) step,
 * peak RSS, the loss curve and the loss on two held-out rows before and after. With `--train-seconds` it trains
 * until that budget is spent.
 */
async function benchTrainImported(name: string, text: string, w: TrainWork) {
  const record = await loadModelRecord(name);
  if (!record) throw new Error(`no model named ${name} (mlagent model list; mlagent model import …)`);
  let files: CheckpointFiles | undefined = await getCheckpoint(new ArtifactStore(), record.checkpoint);
  const { model, tokenizer } = modelFromFiles(files, name);
  const adapters = w.loraRank ? LoraAdapters.init(model, LoraOptions.parse({ r: w.loraRank, alpha: 2 * w.loraRank }), 0) : undefined;
  model.adapters = adapters;
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 });
  const rows = w.dataset ? await datasetRows({ sha256: w.dataset, files, tokenizer, seq: w.seq }) : textRows(tokenizer, text, w.seq);
  files = undefined; // its weights are tensors now; the SFT activity does not keep the file either
  const held = rows.slice(-2), train = rows.slice(0, -2);
  if (train.length < w.batch) throw new Error(`the bench ${w.dataset ? 'dataset' : 'text'} has ${train.length} rows of ${w.seq} tokens (after 2 held out), fewer than a batch of ${w.batch}`);
  const batchAt = (step: number) => Array.from({ length: w.batch }, (_, i) => train[(step * w.batch + i) % train.length]);
  const heldOutBefore = await evalLoss({ model, rows: held, batchSize: 1 });
  const steps: { loss: number; s: number; rssMiB: number }[] = [];
  const t0 = Date.now();
  for (let step = 0; w.seconds ? (Date.now() - t0) / 1000 < w.seconds : step < w.steps + 1; step++) {
    const batch = toBatchRows(batchAt(step));
    const [r, s] = await secondsAsync(() => trainStep({ model, optimizer, batch, lr: w.lr, clipNorm: 1, microBatchSize: w.micro }));
    steps.push({ loss: r.loss, s, rssMiB: process.memoryUsage().rss / 2 ** 20 });
  }
  const timed = steps.slice(1);
  const batches = steps.map((_, step) => batchAt(step));
  const pytorch = Object.fromEntries(PYTORCH_REFERENCES.map((ref) => [ref.name, benchPytorchImported({ source: record.source, batches, w, ref })]));
  const result = {
    workload: w,
    pytorch,
    trainable: [...model.trainableParameters().values()].reduce((a, v) => a + v.size, 0),
    trainTokensPerS: (timed.length * w.batch * w.seq) / timed.reduce((a, x) => a + x.s, 0),
    firstStepS: steps[0].s,
    steps: steps.length,
    trainSeconds: (Date.now() - t0) / 1000,
    lossFirst: steps[0].loss,
    lossLast: steps[steps.length - 1].loss,
    heldOutLoss: { before: heldOutBefore, after: await evalLoss({ model, rows: held, batchSize: 1 }) },
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    curve: steps.map((x) => Number(x.loss.toFixed(4))),
    rssMiBAfterStep: steps.map((x) => Math.round(x.rssMiB)),
  };
  model.dispose();
  adapters?.dispose();
  optimizer.dispose();
  return result;
}

function toBatchRows(rows: PackedRow[]) {
  return { ids: rows.map((r) => r.ids), targets: rows.map((r) => r.targets), weights: rows.map((r) => r.weights), segments: rows.map((r) => r.segments), positions: rows.map((r) => r.positions) };
}

async function secondsAsync<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const r = await f();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}

/** PyTorch training references, the headline first: PyPI's newest torch, then Debian's python3-torch (1.13). */
const PYTORCH_REFERENCES = [
  { name: 'pypi', venv: '.mlagent/torch-venv', makeWith: 'bash model/reference/torch-venv.sh' },
  { name: 'debian', venv: '.mlagent/ref-venv', makeWith: 'bash model/reference/record-golden.sh' },
] as const;
type PytorchResult = { tokens_per_s: number; peak_rss_mib: number; torch: string } | { error: string };

/**
 * PyTorch (transformers in the reference's venv) training the same model from its GGUF file on the same
 * batches (one per step) and micro-batch as `benchTrainImported`, in its own process (its peak RSS is its own).
 */
function benchPytorchImported(p: { source: Record<string, unknown>; batches: PackedRow[][]; w: TrainWork; ref: (typeof PYTORCH_REFERENCES)[number] }): PytorchResult {
  const python = path.join(__dirname, '..', p.ref.venv, 'bin/python');
  if (p.source.kind !== 'gguf' || typeof p.source.file !== 'string' || !fs.existsSync(p.source.file)) return { error: 'the PyTorch comparison needs the model\'s source GGUF file (mlagent model import FILE.gguf)' };
  if (!fs.existsSync(python)) return { error: `the PyTorch reference venv ${p.ref.venv} is missing: ${p.ref.makeWith} creates it` };
  const rowsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-bench-')), 'batches.json');
  fs.writeFileSync(rowsFile, JSON.stringify(p.batches.map((rows) => rows.map((r) => ({ ids: r.ids, targets: r.targets, weights: r.weights, segments: r.segments })))));
  try {
    const out = execFileSync(python, [path.join(__dirname, '../model/reference/sft_bench.py'), p.source.file, rowsFile, ...[p.w.micro, os.cpus().length].map(String)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').pop()!);
  } catch (err) {
    return { error: `PyTorch reference failed: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}` };
  } finally {
    fs.rmSync(path.dirname(rowsFile), { recursive: true, force: true });
  }
}

/** The same architecture and workload as the tensorflow backend's, in PyTorch on all cores. */
function benchPytorch(): { tokens_per_s: number; peak_rss_mib: number; torch: string } | { error: string } {
  const w = WORK.tensorflow;
  const cfg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-bench-')), 'config.json');
  fs.writeFileSync(cfg, JSON.stringify(DEFAULT_CPU_CONFIG));
  try {
    const out = execFileSync('/usr/bin/python3', [path.join(__dirname, '../model/reference/qwen2_ref.py'), 'bench', cfg, ...[w.batch, w.seq, w.steps, os.cpus().length].map(String)], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop()!);
  } catch (err) {
    return { error: `PyTorch reference failed (needs Debian python3-torch: make setup): ${(err as Error).message.split('\n')[0]}` };
  }
}

export async function run(argv: string[]): Promise<number> {
  const asJson = argv.includes('--json');
  const say = (m: string) => { if (!asJson) console.log(m); };
  const corpus = ['docs/ARCHITECTURE.md', 'model/qwen2.ts', 'model/layers.ts', 'model/generate.ts'].map((f) => path.join(__dirname, '..', f)).map((f) => fs.readFileSync(f, 'utf8'));
  const tokenizer = Tokenizer.train({ texts: corpus, vocabSize: DEFAULT_CPU_CONFIG.vocab_size });
  const text = corpus.join('\n');
  const only = argv.indexOf('--backend');
  const named = argv.indexOf('--model');
  // an imported model is benchmarked on the best backend unless one is named (on the slow ones it takes minutes)
  const backends = (await availableBackends()).filter((b, i) => (only < 0 ? named < 0 || i === 0 : b === argv[only + 1]));
  if (backends.length === 0) { console.error(`--backend ${argv[only + 1]} is not available here`); return 2; }
  if (named >= 0) {
    const name = argv[named + 1];
    const results: Record<string, Awaited<ReturnType<typeof benchImported>>> = {};
    let generation: GenerationComparison | undefined;
    const train: Record<string, Awaited<ReturnType<typeof benchTrainImported>>> = {};
    const tw = trainWork(argv);
    for (const b of backends) {
      await useBackend(b);
      if (!argv.includes('--no-generate')) {
        const r = (results[b] = await benchImported(name, text));
        say(`model bench: ${name} (${r.parameters} params) on ${b}, ${os.cpus().length} cores: load ${(r.loadS.artifact + r.loadS.build).toFixed(1)} s (artifact ${r.loadS.artifact.toFixed(1)} s, tensors ${r.loadS.build.toFixed(1)} s); greedy batch 1 after a ${r.promptTokens}-token chat prompt: ${r.genTokensPerS.cached.toFixed(1)} tok/s cached (${r.workload.genTokens} tokens), ${r.genTokensPerS.uncached.toFixed(1)} uncached (${r.workload.uncachedTokens})`);
        if (b === backends[0]) {
          generation = await compareWithLlamaCpp({ model: name, backend: b });
          for (const line of describeComparison(generation)) say(line);
        }
      }
      if (tw) {
        const t = (train[b] = await benchTrainImported(name, text, tw));
        say(`  train on ${b} (${tw.loraRank ? `LoRA r ${tw.loraRank}` : 'full'}, ${t.trainable} trainable): batch ${tw.batch} × ${tw.seq} in micro-batches of ${tw.micro}: ${t.trainTokensPerS.toFixed(1)} tok/s over ${t.steps - 1} steps after a ${t.firstStepS.toFixed(1)} s first step; loss ${t.lossFirst.toFixed(3)} → ${t.lossLast.toFixed(3)}, held-out ${t.heldOutLoss.before.toFixed(3)} → ${t.heldOutLoss.after.toFixed(3)}; peak RSS ${t.peakRssMiB.toFixed(0)} MiB`);
      }
    }
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    say(`  peak RSS: ${peakRssMiB.toFixed(0)} MiB`);
    const ratios: Record<string, number> = {};
    const t = train[backends[0]];
    // the headline ratios are against the first reference that ran (PyPI's newest torch where installed)
    for (const ref of t ? PYTORCH_REFERENCES : []) {
      const r = t.pytorch[ref.name];
      if (!('tokens_per_s' in r)) { say(`  pytorch (${ref.name}): ${r.error}`); continue; }
      ratios[`train_vs_pytorch_${ref.name}`] = t.trainTokensPerS / r.tokens_per_s;
      ratios[`train_rss_vs_pytorch_${ref.name}`] = t.peakRssMiB / r.peak_rss_mib;
      ratios.train_vs_pytorch ??= ratios[`train_vs_pytorch_${ref.name}`];
      ratios.train_rss_vs_pytorch ??= ratios[`train_rss_vs_pytorch_${ref.name}`];
      say(`  pytorch ${r.torch} (${ref.name}): ${r.tokens_per_s.toFixed(1)} tok/s, peak RSS ${r.peak_rss_mib.toFixed(0)} MiB → train ×${ratios[`train_vs_pytorch_${ref.name}`].toFixed(2)}, RSS ×${ratios[`train_rss_vs_pytorch_${ref.name}`].toFixed(2)} (targets ≥ 1.0, ≤ 1.0)`);
    }
    if (generation?.ratio !== undefined) ratios.generate_vs_llamacpp = generation.ratio;
    if (asJson) console.log(JSON.stringify({ model: name, cores: os.cpus().length, backends: results, ...(generation ? { generation } : {}), ...(tw ? { train } : {}), ratios, peakRssMiB, loadAverage: os.loadavg() }, null, 2));
    tf.disposeVariables();
    return 0;
  }
  say(`model bench: default CPU config (${JSON.stringify({ hidden: DEFAULT_CPU_CONFIG.hidden_size, layers: DEFAULT_CPU_CONFIG.num_hidden_layers, heads: DEFAULT_CPU_CONFIG.num_attention_heads, kvHeads: DEFAULT_CPU_CONFIG.num_key_value_heads, vocab: DEFAULT_CPU_CONFIG.vocab_size })}; prompt tokenizer ${tokenizer.vocabSize} tokens), backends: ${backends.join(', ')}, ${os.cpus().length} cores`);
  const results: Record<string, Awaited<ReturnType<typeof benchBackend>>> = {};
  for (const b of backends) {
    await useBackend(b);
    results[b] = await benchBackend(b, tokenizer, text);
    const r = results[b];
    say(`  ${b.padEnd(10)} (${r.parameters} params) train ${r.trainTokensPerS.toFixed(0).padStart(6)} tok/s   generate ${r.genTokensPerS.cached.toFixed(1)} tok/s cached, ${r.genTokensPerS.uncached.toFixed(1)} uncached (×${r.kvSpeedup.toFixed(1)} at ${r.workload.genTokens} new tokens after a ${r.workload.promptTokens}-token prompt)`);
  }
  const pytorch = benchPytorch();
  const ratios: Record<string, number> = {};
  if ('tokens_per_s' in pytorch) {
    say(`  pytorch    train ${pytorch.tokens_per_s.toFixed(0).padStart(6)} tok/s   (torch ${pytorch.torch}, peak RSS ${pytorch.peak_rss_mib.toFixed(0)} MiB)`);
    for (const b of backends) ratios[`${b}_train_vs_pytorch`] = results[b].trainTokensPerS / pytorch.tokens_per_s;
  } else say(`  pytorch    ${pytorch.error}`);
  for (const b of backends) ratios[`${b}_kv_cache_speedup`] = results[b].kvSpeedup;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  for (const [k, v] of Object.entries(ratios)) say(`  ${k.padEnd(32)} ${v.toFixed(2)}`);
  say(`  peak RSS (node, all backends): ${peakRssMiB.toFixed(0)} MiB   targets: tensorflow train ≥ 0.8× pytorch, kv cache ≥ 5× at 256 tokens`);
  if (asJson) console.log(JSON.stringify({ config: DEFAULT_CPU_CONFIG, cores: os.cpus().length, backends: results, pytorch, ratios, peakRssMiB, loadAverage: os.loadavg() }, null, 2));
  tf.disposeVariables();
  return 0;
}
