import { createHash } from 'node:crypto';
import { z } from 'zod';
import { describeIssues } from '../core/zod-issues';
import { CheckpointFiles, checkTensorsAgainstConfig } from './checkpoint';
import { ModelConfig, parseModelConfig } from './config';
import { GgufFile, readGguf, tensorFloat32 } from './gguf';
import { QuantType } from './gguf-quants';
import { parseTokenizerMeta, tokenizerConfigFromGguf, tokenizerJsonFromGguf } from './gguf-tokenizer';
import { NamedTensor, encodeSafetensors } from './safetensors';

/**
 * GGUF (llama.cpp) → checkpoint files with Hugging Face names, layout and config.json. Everything is built and
 * checked in memory; nothing is written here, so a bad file leaves no trace.
 */

const ARCHITECTURES = {
  llama: { architectures: ['LlamaForCausalLM'], model_type: 'llama', attention_bias: false },
  qwen2: { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', attention_bias: true },
} as const;
type Arch = keyof typeof ARCHITECTURES;

/** `<arch>.*` hyper-parameters (llama.cpp's LLM_KV names). */
const ArchMeta = z.object({
  block_count: z.number().int().positive(),
  context_length: z.number().int().positive(),
  embedding_length: z.number().int().positive(),
  feed_forward_length: z.number().int().positive(),
  'attention.head_count': z.number().int().positive(),
  'attention.head_count_kv': z.number().int().positive().optional(),
  'attention.layer_norm_rms_epsilon': z.number().positive(),
  'rope.freq_base': z.number().positive().default(10000),
  'rope.dimension_count': z.number().int().positive().optional(),
  'rope.scaling.type': z.enum(['none']).optional(),
  vocab_size: z.number().int().positive().optional(),
});

/** GGUF tensor names per layer → HF names (llama.cpp's tensor_mapping, the inverse of its converter). */
const LAYER_TENSORS: Record<string, string> = {
  'attn_norm.weight': 'input_layernorm.weight',
  'attn_q.weight': 'self_attn.q_proj.weight',
  'attn_q.bias': 'self_attn.q_proj.bias',
  'attn_k.weight': 'self_attn.k_proj.weight',
  'attn_k.bias': 'self_attn.k_proj.bias',
  'attn_v.weight': 'self_attn.v_proj.weight',
  'attn_v.bias': 'self_attn.v_proj.bias',
  'attn_output.weight': 'self_attn.o_proj.weight',
  'ffn_norm.weight': 'post_attention_layernorm.weight',
  'ffn_gate.weight': 'mlp.gate_proj.weight',
  'ffn_up.weight': 'mlp.up_proj.weight',
  'ffn_down.weight': 'mlp.down_proj.weight',
};
const GLOBAL_TENSORS: Record<string, string> = {
  'token_embd.weight': 'model.embed_tokens.weight',
  'output_norm.weight': 'model.norm.weight',
  'output.weight': 'lm_head.weight',
};

export function hfTensorName(ggufName: string): string | undefined {
  if (ggufName in GLOBAL_TENSORS) return GLOBAL_TENSORS[ggufName];
  const m = /^blk\.(\d+)\.(.+)$/.exec(ggufName);
  return m && m[2] in LAYER_TENSORS ? `model.layers.${m[1]}.${LAYER_TENSORS[m[2]]}` : undefined;
}

/**
 * llama.cpp's converter permutes the rows of Q and K of llama models so its RoPE can rotate adjacent pairs;
 * HF's rotate-half RoPE needs the original order back: rows (head, hd/2, 2) → (head, 2, hd/2).
 */
export function unpermuteRows(w: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  const hd = rows / heads, halfD = hd / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < halfD; i++)
      for (let t = 0; t < 2; t++) {
        const from = (h * hd + 2 * i + t) * cols, to = (h * hd + t * halfD + i) * cols;
        out.set(w.subarray(from, from + cols), to);
      }
  return out;
}

export function configFromGguf(g: GgufFile): { config: ModelConfig; arch: Arch } {
  const arch = g.metadata['general.architecture'];
  if (typeof arch !== 'string' || !(arch in ARCHITECTURES))
    throw new Error(`${g.source}: architecture ${JSON.stringify(arch)} is not supported (${Object.keys(ARCHITECTURES).join(', ')} are)`);
  const prefix = `${arch}.`;
  const scoped = Object.fromEntries(Object.entries(g.metadata).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  const r = ArchMeta.safeParse(scoped);
  if (!r.success) throw new Error(`${g.source}: ${arch} metadata: ${describeIssues(r.error, { prefix })}`);
  const m = r.data;
  const tokens = g.metadata['tokenizer.ggml.tokens'];
  const vocab = m.vocab_size ?? (Array.isArray(tokens) ? tokens.length : g.tensors.get('token_embd.weight')?.shape[0]);
  const heads = m['attention.head_count'];
  if (m['rope.dimension_count'] !== undefined && m['rope.dimension_count'] !== m.embedding_length / heads)
    throw new Error(`${g.source}: partial rotary embeddings (rope.dimension_count ${m['rope.dimension_count']} of head size ${m.embedding_length / heads}) are not supported`);
  const config = parseModelConfig({
    ...ARCHITECTURES[arch as Arch],
    hidden_act: 'silu',
    vocab_size: vocab,
    hidden_size: m.embedding_length,
    intermediate_size: m.feed_forward_length,
    num_hidden_layers: m.block_count,
    num_attention_heads: heads,
    num_key_value_heads: m['attention.head_count_kv'] ?? heads,
    max_position_embeddings: m.context_length,
    rms_norm_eps: m['attention.layer_norm_rms_epsilon'],
    rope_theta: m['rope.freq_base'],
    // llama.cpp's converter leaves out output.weight when the head is the embedding
    tie_word_embeddings: !g.tensors.has('output.weight'),
    bos_token_id: g.metadata['tokenizer.ggml.bos_token_id'],
    eos_token_id: g.metadata['tokenizer.ggml.eos_token_id'],
    torch_dtype: 'float32',
  }, `${g.source} metadata`);
  return { config, arch: arch as Arch };
}

/** HF-named float32 tensors of a parsed GGUF (Q/K rows un-permuted for llama). */
export function tensorsFromGguf(g: GgufFile, config: ModelConfig, arch: Arch): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const t of g.tensors.values()) {
    const name = hfTensorName(t.name);
    if (!name) throw new Error(`${g.source}: tensor ${t.name} has no Hugging Face counterpart this importer knows`);
    let data = tensorFloat32(g, t.name);
    const permutedHeads = arch !== 'llama' ? undefined : t.name.endsWith('attn_q.weight') ? config.num_attention_heads : t.name.endsWith('attn_k.weight') ? config.num_key_value_heads : undefined;
    if (permutedHeads) data = unpermuteRows(data, t.shape[0], t.shape[1], permutedHeads);
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

export interface GgufProvenance {
  source: { kind: 'gguf'; file: string; sha256: string; bytes: number; name?: string };
  quantTypes: Partial<Record<QuantType, number>>;
}

/** Reads, dequantizes and converts a GGUF file into checkpoint files (config, weights, tokenizer, chat template, provenance). */
export async function importGguf(file: string): Promise<{ files: CheckpointFiles; provenance: GgufProvenance }> {
  const g = await readGguf(file);
  const { config, arch } = configFromGguf(g);
  const tokMeta = parseTokenizerMeta(g.metadata, g.source);
  const tensors = tensorsFromGguf(g, config, arch);
  checkTensorsAgainstConfig(tensors, config, g.source);
  const quantTypes: Partial<Record<QuantType, number>> = {};
  for (const t of g.tensors.values()) quantTypes[t.type] = (quantTypes[t.type] ?? 0) + 1;
  const generalName = g.metadata['general.name'];
  const provenance: GgufProvenance = {
    source: { kind: 'gguf', file: g.source, sha256: createHash('sha256').update(g.bytes).digest('hex'), bytes: g.bytes.length, ...(typeof generalName === 'string' ? { name: generalName } : {}) },
    quantTypes,
  };
  const json = (v: unknown) => Buffer.from(JSON.stringify(v, null, 2) + '\n');
  const files: CheckpointFiles = new Map([
    ['config.json', json(config)],
    ['model.safetensors', encodeSafetensors(tensors, { format: 'pt' })],
    ['tokenizer.json', Buffer.from(JSON.stringify(tokenizerJsonFromGguf(tokMeta, g.source)))],
    ['tokenizer_config.json', json(tokenizerConfigFromGguf(tokMeta))],
    ['provenance.json', json(provenance)],
  ]);
  return { files, provenance };
}
