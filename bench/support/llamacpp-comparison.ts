import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendName } from '../../model/backend';
import { loadModelRecord } from '../../model/model-registry';
import type { GenerationTiming, ProbeInput } from './generation-probe';
import type { LlamaCppInput } from './llamacpp-probe';

/**
 * The comparison's workload: the same prompt ids and new-token count on both sides. llama.cpp runs on 2 threads
 * and on 1: its threads spin at a barrier after every op, so on 2 cores shared with other jobs (load ~12) its
 * 2-thread decode fell to ~1 tok/s while 1 thread kept ~38; the ratio takes its best.
 */
export const GENERATION_WORK = { promptTokens: 256, newTokens: 64, batches: [1, 8], llamaThreads: [2, 1], longPromptTokens: 1500, longNewTokens: 8 };

type Probe = { baseRssMiB: number; runs: GenerationTiming[]; firstTokens: number[] };
export type GenerationComparison = {
  workload: typeof GENERATION_WORK;
  ours: Probe | { error: string };
  /** one batch-1 generation after an agent-sized prompt: the prefill's memory */
  longPrompt: Probe | { error: string };
  llamacpp: { version: string; gguf: string; byThreads: (Probe & { threads: number })[] } | { error: string };
  /** greedy tokens of row 0 equal to llama.cpp's before the first difference (Q4_1 vs dequantized float32) */
  sameGreedyPrefix?: number;
  /** our batch-8 tokens/s over llama.cpp's best (batch 1 or 8, any thread count), prefill included on both sides */
  ratio?: number;
};

/** Runs a script of this folder in its own node process (its peak RSS is its own); the last stdout line is JSON. */
function child<T>(script: string, input: unknown): T | { error: string } {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, script), JSON.stringify(input)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
    return JSON.parse(out.trim().split('\n').pop()!) as T;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    const lines = (e.stderr ?? e.message).split('\n').filter((l) => l.trim() && !/^[IWE]\d{4} |^WARNING: All log|^To enable the following/.test(l));
    return { error: `${script} failed: ${lines.slice(-3).join(' ')}` };
  }
}

/**
 * Greedy generation with the KV cache at batch 1 and 8 (tfjs, the imported model on `backend`) against llama.cpp
 * (node-llama-cpp) on the GGUF file the model was imported from, with the same prompt token ids; then our
 * prefill of a long prompt. Tokens/s count every new token of every row over the whole call, prefill included.
 */
export async function compareWithLlamaCpp(p: { model: string; backend: BackendName }): Promise<GenerationComparison> {
  const w = GENERATION_WORK;
  const record = await loadModelRecord(p.model);
  const gguf = record?.source.kind === 'gguf' && typeof record.source.file === 'string' ? record.source.file : undefined;
  const probeInput = (promptTokens: number, newTokens: number, batches: number[]): ProbeInput => ({ model: p.model, backend: p.backend, promptTokens, newTokens, batches });
  const ours = child<Probe & { promptIds: number[] }>('generation-probe.ts', probeInput(w.promptTokens, w.newTokens, w.batches));
  const longPrompt = child<Probe>('generation-probe.ts', probeInput(w.longPromptTokens, w.longNewTokens, [1]));
  let llamacpp: GenerationComparison['llamacpp'];
  if ('error' in ours) llamacpp = { error: 'not run: our generation failed (its prompt ids are the shared input)' };
  else if (!gguf || !fs.existsSync(gguf)) llamacpp = { error: `the llama.cpp comparison needs the model's source GGUF file (${gguf ?? 'not imported from a GGUF'}; mlagent model import FILE.gguf)` };
  else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-bench-'));
    const promptIdsFile = path.join(dir, 'prompt-ids.json');
    fs.writeFileSync(promptIdsFile, JSON.stringify(ours.promptIds));
    const byThreads = w.llamaThreads.map((threads) => {
      const input: LlamaCppInput = { gguf, promptIdsFile, newTokens: w.newTokens, batches: w.batches, threads };
      const r = child<Probe & { version: string }>('llamacpp-probe.ts', input);
      return 'error' in r ? r : { ...r, threads };
    });
    fs.rmSync(dir, { recursive: true, force: true });
    const failed = byThreads.find((r) => 'error' in r);
    llamacpp = failed && 'error' in failed ? failed : { version: (byThreads[0] as { version: string }).version, gguf, byThreads: byThreads as (Probe & { threads: number })[] };
  }
  const result: GenerationComparison = { workload: w, ours: 'error' in ours ? ours : { baseRssMiB: ours.baseRssMiB, runs: ours.runs, firstTokens: ours.firstTokens }, longPrompt, llamacpp };
  if (!('error' in ours) && !('error' in llamacpp)) {
    const a = ours.firstTokens, b = llamacpp.byThreads[0].firstTokens;
    result.sameGreedyPrefix = a.findIndex((t, i) => t !== b[i]) < 0 ? a.length : a.findIndex((t, i) => t !== b[i]);
    const batched = ours.runs.find((r) => r.batch === Math.max(...w.batches))!;
    result.ratio = batched.tokensPerS / Math.max(...llamacpp.byThreads.flatMap((t) => t.runs.map((r) => r.tokensPerS)));
  }
  return result;
}

/** Human-readable lines of a comparison. */
export function describeComparison(c: GenerationComparison): string[] {
  const runs = (who: string, r: Probe | { error: string }) => ('error' in r ? [`  ${who}: ${r.error}`] : r.runs.map((x) => `  ${who} batch ${x.batch}: ${x.tokensPerS.toFixed(1)} tok/s (prefill ${x.prefillS.toFixed(2)} s, then ${x.decodeTokensPerS.toFixed(1)} tok/s), peak RSS ${x.peakRssMiB.toFixed(0)} MiB (${r.baseRssMiB.toFixed(0)} loaded)`));
  const w = c.workload;
  return [
    `  generation, greedy, ${w.newTokens} new tokens per row after the same ${w.promptTokens}-token prompt:`,
    ...runs('ours', c.ours),
    ...('error' in c.llamacpp ? runs('llama.cpp', c.llamacpp) : c.llamacpp.byThreads.flatMap((t) => runs(`llama.cpp ${(c.llamacpp as { version: string }).version}, ${t.threads} thread${t.threads > 1 ? 's' : ''},`, t))),
    ...(c.sameGreedyPrefix !== undefined ? [`  same greedy tokens as llama.cpp for the first ${c.sameGreedyPrefix} of ${w.newTokens} (row 0)`] : []),
    ...runs(`ours, ${w.longPromptTokens}-token prompt`, c.longPrompt),
    c.ratio !== undefined ? `  generate_vs_llamacpp ×${c.ratio.toFixed(3)} (ours at batch 8 over llama.cpp's best; target ≥ 0.3)` : `  generate_vs_llamacpp: no ratio (${'error' in c.llamacpp ? c.llamacpp.error : 'our generation failed'})`,
  ];
}
