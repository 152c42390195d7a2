import { z } from 'zod';
import { describeIssues } from '../core/zod-issues';

/**
 * Model shape, with the key names of Hugging Face's Qwen2 / Llama `config.json` so checkpoint directories are
 * interchangeable with the Python ecosystem. Both are the same decoder except for q/k/v biases (Qwen2 has them,
 * Llama not): `attention_bias` says which, see `usesAttentionBias`. Unknown keys (torch_dtype, …) pass through;
 * Llama features this model does not implement (scaled RoPE, MLP biases, other activations) are rejected.
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
    attention_bias: z.boolean().optional(),
    model_type: z.string().optional(),
    architectures: z.array(z.string()).optional(),
    hidden_act: z.literal('silu').optional(),
    mlp_bias: z.literal(false).optional(),
    rope_scaling: z.null().optional(),
    head_dim: z.number().int().positive().optional(),
  })
  .passthrough()
  .superRefine((c, ctx) => {
    if (c.hidden_size % c.num_attention_heads !== 0)
      ctx.addIssue({ code: 'custom', path: ['hidden_size'], message: `hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}` });
    if (c.num_attention_heads % c.num_key_value_heads !== 0)
      ctx.addIssue({ code: 'custom', path: ['num_key_value_heads'], message: `num_attention_heads ${c.num_attention_heads} is not a multiple of num_key_value_heads ${c.num_key_value_heads}` });
    if ((c.hidden_size / c.num_attention_heads) % 2 !== 0)
      ctx.addIssue({ code: 'custom', path: ['hidden_size'], message: 'head dimension must be even for rotary embeddings' });
    if (c.head_dim !== undefined && c.head_dim !== c.hidden_size / c.num_attention_heads)
      ctx.addIssue({ code: 'custom', path: ['head_dim'], message: `head_dim ${c.head_dim} differs from hidden_size / num_attention_heads (not supported)` });
    const family = modelFamily(c);
    if (family === 'unknown')
      ctx.addIssue({ code: 'custom', path: ['architectures'], message: `architecture ${JSON.stringify(c.architectures ?? c.model_type)} is not supported (Qwen2ForCausalLM, LlamaForCausalLM are)` });
  });
export type ModelConfig = z.infer<typeof ModelConfig>;

const hfDefaults = { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_act: 'silu' as const, torch_dtype: 'float32' };

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

/** Which decoder a config describes; configs naming neither (our older checkpoints) are Qwen2. */
function modelFamily(c: { model_type?: string; architectures?: string[] }): 'qwen2' | 'llama' | 'unknown' {
  const names = [c.model_type, ...(c.architectures ?? [])].filter((n): n is string => n !== undefined);
  if (names.length === 0) return 'qwen2';
  if (names.every((n) => n === 'qwen2' || n === 'Qwen2ForCausalLM')) return 'qwen2';
  if (names.every((n) => n === 'llama' || n === 'LlamaForCausalLM')) return 'llama';
  return 'unknown';
}

/** q/k/v projections carry biases: an explicit `attention_bias` wins (HF Llama configs state it), else Qwen2 yes, Llama no. */
export function usesAttentionBias(c: ModelConfig): boolean {
  return c.attention_bias ?? modelFamily(c) === 'qwen2';
}

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
