import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifact-store';
import { BACKENDS, useBackend } from '../../model/backend';
import { ChatTemplate } from '../../model/chat-template';
import { getCheckpoint, modelFromFiles } from '../../model/checkpoint';
import { generate, generateSteps } from '../../model/generate';
import { loadModelRecord } from '../../model/model-registry';
import { Tokenizer } from '../../model/tokenizer';

/**
 * One process's greedy generation of an imported model (run as a child by `bench model`, so its peak RSS is its
 * own): a chat prompt of `promptTokens` tokens of repository text, `newTokens` tokens per row past EOS, once per
 * batch size. Prints one JSON line: the prompt's token ids (for llama.cpp), and per batch size the prefill time,
 * tokens/s and the process's peak RSS (VmHWM) after that run.
 */
export const ProbeInput = z.object({
  model: z.string(),
  backend: z.enum(BACKENDS),
  promptTokens: z.number().int().positive(),
  newTokens: z.number().int().positive(),
  batches: z.array(z.number().int().positive()).min(1),
});
export type ProbeInput = z.infer<typeof ProbeInput>;

/** Per batch size: time to the first token, decode tokens/s after it, and all new tokens over the whole run. */
export interface GenerationTiming { batch: number; prefillS: number; decodeTokensPerS: number; tokensPerS: number; peakRssMiB: number }

export function vmHwmMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** A chat prompt of exactly `tokens` tokens: the user turn is repository text cut to fit the template around it. */
export function benchPrompt(p: { tokenizer: Tokenizer; template?: ChatTemplate; tokens: number }): number[] {
  const text = ['README.md', 'docs/ARCHITECTURE.md', 'model/qwen2.ts', 'model/generate.ts', 'model/layers.ts'].map((f) => fs.readFileSync(path.join(__dirname, '../..', f), 'utf8')).join('\n');
  const render = (body: string) => (p.template ? p.template.render([{ role: 'user', content: `Summarise this file:\n${body}` }], { addGenerationPrompt: true }) : body);
  const overhead = p.tokenizer.encode(render('')).length;
  const ids = p.tokenizer.encode(render(p.tokenizer.decode(p.tokenizer.encode(text).slice(0, p.tokens - overhead))));
  if (ids.length < p.tokens / 2) throw new Error(`bench prompt: only ${ids.length} tokens of text for ${p.tokens}`);
  return ids;
}

export async function probe(input: ProbeInput): Promise<{ promptIds: number[]; baseRssMiB: number; runs: GenerationTiming[]; firstTokens: number[] }> {
  await useBackend(input.backend);
  const record = await loadModelRecord(input.model);
  if (!record) throw new Error(`no model named ${input.model} (mlagent model list; mlagent model import …)`);
  const files = await getCheckpoint(new ArtifactStore(), record.checkpoint);
  const { model, tokenizer } = modelFromFiles(files, input.model);
  const promptIds = benchPrompt({ tokenizer, template: ChatTemplate.fromCheckpoint(files, input.model), tokens: input.promptTokens });
  const prompt = tokenizer.decode(promptIds);
  const options = { maxNewTokens: input.newTokens, temperature: 0, stopAtActionInput: false, ignoreEos: true };
  generate(model, tokenizer, [tokenizer.decode(promptIds.slice(0, 16))], { ...options, maxNewTokens: 2 }); // warm-up (kernel setup), short: the peak is the long prompt's
  const baseRssMiB = vmHwmMiB();
  const runs: GenerationTiming[] = [];
  let firstTokens: number[] = [];
  for (const batch of input.batches) {
    const t0 = performance.now();
    let tFirst = 0;
    const steps = generateSteps(model, tokenizer, Array(batch).fill(prompt), options);
    let r = steps.next();
    for (; !r.done; r = steps.next()) tFirst ||= performance.now();
    const t1 = performance.now();
    firstTokens = r.value[0].tokens;
    runs.push({ batch, prefillS: (tFirst - t0) / 1000, decodeTokensPerS: (batch * (input.newTokens - 1)) / ((t1 - tFirst) / 1000), tokensPerS: (batch * input.newTokens) / ((t1 - t0) / 1000), peakRssMiB: vmHwmMiB() });
  }
  model.dispose();
  return { promptIds, baseRssMiB, runs, firstTokens };
}

if (require.main === module) {
  probe(ProbeInput.parse(JSON.parse(process.argv[2]))).then((r) => console.log(JSON.stringify(r)), (err) => { console.error((err as Error).message); process.exit(1); });
}
