import { z } from 'zod';
import { describeIssues } from '../core/zod-issues';

/**
 * Model shape, with the key names of Hugging Face's Qwen2 `config.json` so checkpoint directories are
 * interchangeable with the Python ecosystem. Unknown keys (architectures, torch_dtype, …) pass through.
 */
export const ModelConfig = z
  .object({
    vocab_size: z.number().int().positive(),
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    num_hidden_layers: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_key_value_heads: z.number().int().positive(),
    max_position_embeddings: z.number().int().positive(),
    rms_norm_eps: z.number().positive(),
    rope_theta: z.number().positive(),
    tie_word_embeddings: z.boolean(),
  })
  .passthrough()
  .superRefine((c, ctx) => {
    if (c.hidden_size % c.num_attention_heads !== 0)
      ctx.addIssue({ code: 'custom', path: ['hidden_size'], message: `hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}` });
    if (c.num_attention_heads % c.num_key_value_heads !== 0)
      ctx.addIssue({ code: 'custom', path: ['num_key_value_heads'], message: `num_attention_heads ${c.num_attention_heads} is not a multiple of num_key_value_heads ${c.num_key_value_heads}` });
    if ((c.hidden_size / c.num_attention_heads) % 2 !== 0)
      ctx.addIssue({ code: 'custom', path: ['hidden_size'], message: 'head dimension must be even for rotary embeddings' });
  });
export type ModelConfig = z.infer<typeof ModelConfig>;

const hfDefaults = { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_act: 'silu', torch_dtype: 'float32' };

/** CPU default: ~3.8M parameters, trains at interactive speed on two cores. */
export const DEFAULT_CPU_CONFIG: ModelConfig = {
  ...hfDefaults,
  vocab_size: 4096,
  hidden_size: 256,
  intermediate_size: 688,
  num_hidden_layers: 4,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  max_position_embeddings: 1024,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: true,
};

/** Published Qwen2.5 shapes (for GPU hosts). */
export const QWEN25_CONFIGS: Record<string, ModelConfig> = {
  '0.5B': { ...hfDefaults, vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true },
  '1.5B': { ...hfDefaults, vocab_size: 151936, hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28, num_attention_heads: 12, num_key_value_heads: 2, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true },
  '3B': { ...hfDefaults, vocab_size: 151936, hidden_size: 2048, intermediate_size: 11008, num_hidden_layers: 36, num_attention_heads: 16, num_key_value_heads: 2, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true },
  '7B': { ...hfDefaults, vocab_size: 152064, hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28, num_key_value_heads: 4, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: false },
};

export function headDim(c: ModelConfig): number {
  return c.hidden_size / c.num_attention_heads;
}

/** Parses a config.json body (or object) with a message naming the bad field. */
export function parseModelConfig(raw: unknown, source = 'config'): ModelConfig {
  const r = ModelConfig.safeParse(raw);
  if (!r.success) {
    const issues = describeIssues(r.error);
    throw new Error(`invalid model ${source}: ${issues}`);
  }
  return r.data;
}
