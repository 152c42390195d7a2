import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ArtifactStore } from '../../activities/artifact-store';
import type { ArtifactRef } from '../../core/artifact-ref';
import { checkpointFiles, putCheckpoint, type CheckpointFiles } from '../../model/checkpoint';
import { LoraAdapters } from '../../model/lora';
import { LoraOptions } from '../../model/lora-config';
import { saveModelRecord } from '../../model/model-registry';
import { Qwen2Model } from '../../model/qwen2';
import { tinyConfig, tinyTokenizer, REPO } from '../model/fixtures';

/** ChatML, as SmolLM2 and Qwen write it, so the tiny policy renders prompts through a real template. */
export const CHATML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/**
 * A random tiny policy (2 layers, 320 tokens) with a chat template, stored and registered as `name` in
 * MLAGENT_HOME (which the caller points at a temporary folder). With `lora`, the checkpoint holds the base
 * weights plus PEFT adapters whose B is non-zero, as an unmerged LoRA SFT result does.
 */
export async function saveTinyPolicy(p: { name: string; maxPositions?: number; lora?: boolean }): Promise<{ ref: ArtifactRef; files: CheckpointFiles }> {
  const tokenizer = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tokenizer.vocabSize, max_position_embeddings: p.maxPositions ?? 256 }), 7);
  try {
    const files = checkpointFiles(model, tokenizer);
    files.set('tokenizer_config.json', Buffer.from(JSON.stringify({ chat_template: CHATML, eos_token: '<|im_end|>' })));
    if (p.lora) {
      const adapters = LoraAdapters.init(model, LoraOptions.parse({ r: 4, alpha: 16 }), 3);
      for (const [name, v] of adapters.namedVariables()) if (name.includes('lora_B')) v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 11));
      for (const [name, data] of adapters.files('tiny')) files.set(name, data);
      adapters.dispose();
    }
    const ref = await putCheckpoint(new ArtifactStore(), files);
    await saveModelRecord({ name: p.name, checkpoint: ref, source: { kind: 'test' }, importedAt: new Date().toISOString(), parameters: model.parameterCount() });
    return { ref, files };
  } finally {
    model.dispose();
  }
}

/** `mlagent serve ARGS… --port 0` as a child process, resolved once it prints where it serves. */
export async function startServeCli(p: { args: string[]; env?: NodeJS.ProcessEnv }): Promise<{ baseUrl: string; id: string; child: ChildProcess; output: string[]; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'cli/main.ts'), 'serve', ...p.args, '--port', '0'], { env: { ...process.env, ...p.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<{ baseUrl: string; id: string }>((resolve, reject) => {
    for (const s of [child.stdout!, child.stderr!])
      readline.createInterface({ input: s }).on('line', (line) => {
        output.push(line);
        const m = /^serving (\S+) at (\S+)$/.exec(line);
        if (m) resolve({ id: m[1]!, baseUrl: m[2]! });
      });
    void exited.then((code) => reject(new Error(`mlagent serve exited (${code}) before serving:\n${output.join('\n')}`)));
  });
  const { baseUrl, id } = await ready;
  return {
    baseUrl, id, child, output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
