import { z } from 'zod';

/** Projections a LoRA adapter can target (PEFT's `target_modules` names for Llama / Qwen2). */
export const LORA_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraModule = (typeof LORA_MODULES)[number];

/** LoRA options of SFT (pure: the workflow bundle imports it through sft-params). */
export const LoraOptions = z.object({
  r: z.number().int().positive().default(8),
  alpha: z.number().positive().default(16),
  dropout: z.number().min(0).lt(1).default(0),
  targetModules: z.array(z.enum(LORA_MODULES)).nonempty().default([...LORA_MODULES]),
}).strict();
export type LoraOptions = z.output<typeof LoraOptions>;

/**
 * The part of PEFT's adapter_config.json we read back. Variants that change the forward pass (rsLoRA's
 * alpha/√r, DoRA, per-module ranks, bias training) are rejected rather than silently ignored.
 */
export const PeftLoraConfig = z.object({
  peft_type: z.literal('LORA'),
  r: z.number().int().positive(),
  lora_alpha: z.number().positive(),
  lora_dropout: z.number().min(0).lt(1).default(0),
  target_modules: z.array(z.enum(LORA_MODULES)).nonempty(),
  base_model_name_or_path: z.string().nullable().optional(),
  task_type: z.string().nullable().optional(),
  bias: z.literal('none').default('none'),
  use_rslora: z.literal(false).default(false),
  use_dora: z.literal(false).default(false),
  fan_in_fan_out: z.literal(false).default(false),
  rank_pattern: z.record(z.string(), z.never()).default({}),
  alpha_pattern: z.record(z.string(), z.never()).default({}),
}).passthrough();
export type PeftLoraConfig = z.infer<typeof PeftLoraConfig>;

export function peftConfigJson(o: LoraOptions, baseModel: string): Record<string, unknown> {
  return {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', base_model_name_or_path: baseModel,
    r: o.r, lora_alpha: o.alpha, lora_dropout: o.dropout, target_modules: [...o.targetModules].sort(),
    bias: 'none', fan_in_fan_out: false, inference_mode: true, init_lora_weights: true, use_rslora: false, use_dora: false,
    modules_to_save: null, layers_to_transform: null, layers_pattern: null, rank_pattern: {}, alpha_pattern: {},
  };
}
