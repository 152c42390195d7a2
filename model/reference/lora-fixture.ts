import fs from 'node:fs';
import path from 'node:path';
import { checkpointFiles } from '../checkpoint';
import { LoraAdapters } from '../lora';
import { LoraOptions } from '../lora-config';
import { Qwen2Model } from '../qwen2';
import { normalArray, rng } from '../random';
import { Tokenizer } from '../tokenizer';
import type { ModelConfig } from '../config';
import * as tf from '@tensorflow/tfjs';

/**
 * The PEFT parity fixture: a tiny random Llama (no biases, untied head) with seeded LoRA adapters whose B is
 * non-zero, so the golden logits depend on both factors. `record-lora-golden.sh` writes it as a directory that
 * transformers + peft load; the test rebuilds the same tensors and compares logits with the recorded ones.
 */
export const LORA_FIXTURE_CONFIG: ModelConfig = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', attention_bias: false, hidden_act: 'silu',
  vocab_size: 320, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  max_position_embeddings: 256, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false,
};
export const LORA_FIXTURE_OPTIONS = LoraOptions.parse({ r: 4, alpha: 8, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
/** Two causal rows (no padding: the reference runs without an attention mask). */
export const LORA_FIXTURE_IDS = [[1, 17, 250, 3, 99, 42, 7, 300], [5, 5, 128, 64, 2, 319, 0, 11]];

export function loraFixture(): { model: Qwen2Model; adapters: LoraAdapters } {
  const model = Qwen2Model.init(LORA_FIXTURE_CONFIG, 11);
  const adapters = LoraAdapters.init(model, LORA_FIXTURE_OPTIONS, 12);
  const next = rng(13);
  for (const [name, v] of adapters.namedVariables()) if (name.includes('lora_B')) v.assign(tf.tensor(normalArray(v.size, 0.1, next), v.shape));
  model.adapters = adapters;
  return { model, adapters };
}

/**
 * Writes the base checkpoint into DIR/base and the adapter files into DIR/adapter (transformers, seeing
 * adapter_config.json next to config.json, would fetch the adapter's base by name instead).
 * Run: npx tsx model/reference/lora-fixture.ts DIR
 */
function main(dir: string): void {
  const { model, adapters } = loraFixture();
  const write = (sub: string, files: Map<string, Buffer>) => {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
    for (const [n, d] of files) fs.writeFileSync(path.join(dir, sub, n), d);
  };
  write('base', checkpointFiles(model, Tokenizer.train({ texts: ['lora fixture'], vocabSize: 300 })));
  write('adapter', adapters.files('mlagent-lora-fixture'));
}

if (require.main === module) main(process.argv[2]);
