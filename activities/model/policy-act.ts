import { ArtifactRef } from '../../core/artifact-ref';
import { DEFAULT_POLICY_DECODING, type Decoding } from '../../core/episode-schema';
import type { TokenUsage } from '../../core/llm-schemas';
import { generate } from '../../model/generate';
import { getCheckpoint, modelFromFiles } from '../../model/checkpoint';
import type { Qwen2Model } from '../../model/qwen2';
import type { Tokenizer } from '../../model/tokenizer';
import { ArtifactStore } from '../artifact-store';

export interface PolicyActInput {
  checkpoint: ArtifactRef;
  prompt: string;
  temperature: number;
  maxNewTokens: number;
  seed: number;
  /** Absent in inputs scheduled before the option existed: those get the policy agent's default. */
  decoding?: Decoding;
}

export interface PolicyActResult {
  response: string;
  /** Log-probabilities of the sampled tokens (PPO's old-policy log-probs). */
  logprobs: number[];
  usage: TokenUsage;
}

/** The model worker keeps the last policy it served in memory: an episode asks it 15 times in a row. */
let loaded: { sha256: string; model: Qwen2Model; tokenizer: Tokenizer } | undefined;

export async function policyFor(ref: ArtifactRef): Promise<{ model: Qwen2Model; tokenizer: Tokenizer }> {
  if (loaded?.sha256 !== ref.sha256) {
    loaded?.model.dispose();
    const files = await getCheckpoint(new ArtifactStore(), ref);
    loaded = { sha256: ref.sha256, ...modelFromFiles(files, `checkpoint ${ref.sha256.slice(0, 12)}`) };
  }
  return loaded;
}

/**
 * Like SFT, keeps the end of an over-long prompt (the latest feedback), so prompt + `maxNewTokens` fit the
 * model's positions.
 */
export function fitPrompt(p: { model: Qwen2Model; tokenizer: Tokenizer; prompt: string; maxNewTokens: number }): string {
  const { tokenizer } = p;
  const room = p.model.config.max_position_embeddings - p.maxNewTokens;
  const ids = tokenizer.encode(p.prompt);
  let prompt = p.prompt;
  // Decoded text can re-encode a few tokens longer at the cut, so cut again until it fits.
  for (let keep = room; tokenizer.encode(prompt).length > room; keep -= 8) prompt = tokenizer.decode(ids.slice(ids.length - keep));
  return prompt;
}

/** One agent decision by the trained policy: the response to the state's prompt, sampled once. */
export async function policyAct(a: PolicyActInput): Promise<PolicyActResult> {
  const { model, tokenizer } = await policyFor(a.checkpoint);
  const prompt = fitPrompt({ model, tokenizer, prompt: a.prompt, maxNewTokens: a.maxNewTokens });
  const decoding = a.decoding ?? DEFAULT_POLICY_DECODING;
  const [g] = generate(model, tokenizer, [prompt], { temperature: a.temperature, maxNewTokens: a.maxNewTokens, seed: a.seed, decoding });
  const promptTokens = tokenizer.encode(prompt).length;
  return {
    response: g.text,
    logprobs: g.logprobs,
    usage: { model: `policy:${a.checkpoint.sha256.slice(0, 12)}`, promptTokens, completionTokens: g.tokens.length, totalTokens: promptTokens + g.tokens.length },
  };
}
