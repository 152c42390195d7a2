import fs from 'node:fs';
import path from 'node:path';
import type { Token } from 'node-llama-cpp';
import { z } from 'zod';
import { GenerationTiming, vmHwmMiB } from './generation-probe';

/**
 * llama.cpp (npm `node-llama-cpp`, its prebuilt CPU binary) generating greedily from the same prompt token ids
 * as our run, for `bench model`, in its own process: one context with a sequence per row, so a batch's rows are
 * decoded together (node-llama-cpp batches the sequences of a context that evaluate at the same time). Prints one
 * JSON line like `generation-probe.ts`.
 */
export const LlamaCppInput = z.object({
  gguf: z.string(),
  promptIdsFile: z.string(),
  newTokens: z.number().int().positive(),
  batches: z.array(z.number().int().positive()).min(1),
  threads: z.number().int().positive(),
});
export type LlamaCppInput = z.infer<typeof LlamaCppInput>;

export async function probeLlamaCpp(input: LlamaCppInput): Promise<{ version: string; baseRssMiB: number; runs: GenerationTiming[]; firstTokens: number[] }> {
  const { getLlama } = await import('node-llama-cpp'); // ESM only: tsx keeps this a real import()
  const promptIds = z.array(z.number().int()).parse(JSON.parse(fs.readFileSync(input.promptIdsFile, 'utf8')));
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false });
  const model = await llama.loadModel({ modelPath: input.gguf });
  const maxBatch = Math.max(...input.batches);
  const contextSize = promptIds.length + input.newTokens + 8;
  const context = await model.createContext({ sequences: maxBatch, threads: input.threads, contextSize: maxBatch * contextSize, batchSize: Math.max(512, promptIds.length) });
  const tokens = promptIds as Token[];
  /** Greedy rows from the prompt, `newTokens` each (past end-of-text, as ours), all sequences at once. */
  const generateRows = async (batch: number, newTokens: number) => {
    const seqs = Array.from({ length: batch }, () => context.getSequence());
    let tFirst = 0;
    const rows = await Promise.all(seqs.map(async (s) => {
      const out: number[] = [];
      for await (const t of s.evaluate(tokens, { temperature: 0, yieldEogToken: true })) {
        tFirst ||= performance.now();
        out.push(t);
        if (out.length >= newTokens) break;
      }
      return out;
    }));
    seqs.forEach((s) => s.dispose());
    return { rows, tFirst };
  };
  await generateRows(1, 2); // warm-up
  const baseRssMiB = vmHwmMiB();
  const runs: GenerationTiming[] = [];
  let firstTokens: number[] = [];
  for (const batch of input.batches) {
    const t0 = performance.now();
    const { rows, tFirst } = await generateRows(batch, input.newTokens);
    const t1 = performance.now();
    firstTokens = rows[0];
    runs.push({ batch, prefillS: (tFirst - t0) / 1000, decodeTokensPerS: (batch * (input.newTokens - 1)) / ((t1 - tFirst) / 1000), tokensPerS: (batch * input.newTokens) / ((t1 - t0) / 1000), peakRssMiB: vmHwmMiB() });
  }
  await context.dispose();
  await model.dispose();
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('node-llama-cpp')), '../package.json'), 'utf8')) as { version: string };
  return { version: pkg.version, baseRssMiB, runs, firstTokens };
}

if (require.main === module) {
  probeLlamaCpp(LlamaCppInput.parse(JSON.parse(process.argv[2]))).then((r) => { console.log(JSON.stringify(r)); process.exit(0); }, (err) => { console.error((err as Error).message); process.exit(1); });
}
