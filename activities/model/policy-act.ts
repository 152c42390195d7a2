import { LRUCache } from 'lru-cache';
import { ApplicationFailure } from '@temporalio/common';
import { ArtifactRef } from '../../core/artifact-ref';
import { DEFAULT_POLICY_DECODING, type Decoding } from '../../core/episode-schema';
import type { TokenUsage } from '../../core/llm-schemas';
import type { PromptState } from '../../core/prompt';
import { DEFAULT_CONTEXT_TOKENS, PromptBudgetError } from '../../core/prompt-budget';
import { PromptRenderer } from '../../model/chat-prompt';
import { generate } from '../../model/generate';
import { getCheckpoint, modelFromFiles } from '../../model/checkpoint';
import type { Qwen2Model } from '../../model/qwen2';
import type { Tokenizer } from '../../model/tokenizer';
import { ArtifactStore } from '../artifact-store';
import { stateConstraint } from './workspace-facts';

export interface PolicyActInput {
  checkpoint: ArtifactRef;
  /** The state acted from; rendered with the checkpoint's chat template, its history fitted to the budget. */
  state: PromptState;
  temperature: number;
  maxNewTokens: number;
  seed: number;
  /** Absent in inputs scheduled before the option existed: those get the policy agent's default. */
  decoding?: Decoding;
  /** The state's workspace snapshot: constrained decoding is grounded in it (absent in older inputs: not grounded). */
  workspace?: ArtifactRef;
}

export interface PolicyActResult {
  response: string;
  /** Log-probabilities of the sampled tokens (PPO's old-policy log-probs). */
  logprobs: number[];
  usage: TokenUsage;
}

type LoadedPolicy = { model: Qwen2Model; tokenizer: Tokenizer; renderer: PromptRenderer };

/**
 * The policies the model worker served last, most recent last. An episode asks the same policy 15 times in a row,
 * and an evaluation interleaves the episodes of several policies (base, SFT, SFT + PPO): keeping only one made
 * every decision reload a 0.5–1.6 GB checkpoint. `MLAGENT_POLICY_CACHE` (read at start) bounds how many stay (memory: ~0.55 GB
 * each for the 135M default).
 */
const loaded = new LRUCache<string, LoadedPolicy>({ max: Math.max(1, Number(process.env.MLAGENT_POLICY_CACHE ?? 3)), dispose: (p) => p.model.dispose() });

/** Drops a policy no call will act with again (PPO's policy once an update has superseded it), freeing its tensors. */
export function forgetPolicy(ref: ArtifactRef): void {
  loaded.delete(ref.sha256);
}

/** The checkpoints whose policies are loaded, most recent first. */
export function loadedPolicies(): string[] {
  return [...loaded.keys()];
}

export async function policyFor(ref: ArtifactRef): Promise<LoadedPolicy> {
  const hit = loaded.get(ref.sha256);
  if (hit) return hit;
  const files = await getCheckpoint(new ArtifactStore(), ref);
  const source = `checkpoint ${ref.sha256.slice(0, 12)}`;
  const { model, tokenizer } = modelFromFiles(files, source);
  const policy = { model, tokenizer, renderer: PromptRenderer.forCheckpoint(files, tokenizer, source) };
  loaded.set(ref.sha256, policy);
  return policy;
}

/**
 * The state's prompt text for acting: prompt + `maxNewTokens` stay within DEFAULT_CONTEXT_TOKENS (SFT's
 * sequence length) and the model's positions; the history gives way, never the instructions or the task.
 */
export function renderStatePrompt(p: { model: Qwen2Model; renderer: PromptRenderer; state: PromptState; maxNewTokens: number }): string {
  const budget = Math.min(DEFAULT_CONTEXT_TOKENS, p.model.config.max_position_embeddings) - p.maxNewTokens;
  try {
    return p.renderer.fit(p.state, budget).text;
  } catch (err) {
    // The same state and model will not fit on a retry either.
    if (err instanceof PromptBudgetError) throw ApplicationFailure.create({ message: err.message, type: 'PromptBudget', nonRetryable: true });
    throw err;
  }
}

/** One agent decision by the trained policy: the response to the state's prompt, sampled once. */
export async function policyAct(a: PolicyActInput): Promise<PolicyActResult> {
  const { model, tokenizer, renderer } = await policyFor(a.checkpoint);
  const prompt = renderStatePrompt({ model, renderer, state: a.state, maxNewTokens: a.maxNewTokens });
  const decoding = a.decoding ?? DEFAULT_POLICY_DECODING;
  const constraint = await stateConstraint(a.workspace);
  const [g] = generate(model, tokenizer, [prompt], { temperature: a.temperature, maxNewTokens: a.maxNewTokens, seed: a.seed, decoding, constraint });
  const promptTokens = tokenizer.encode(prompt).length;
  return {
    response: g.text,
    logprobs: g.logprobs,
    usage: { model: `policy:${a.checkpoint.sha256.slice(0, 12)}`, promptTokens, completionTokens: g.tokens.length, totalTokens: promptTokens + g.tokens.length },
  };
}
