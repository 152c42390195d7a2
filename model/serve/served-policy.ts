import type { ArtifactStore } from '../../activities/artifact-store';
import { PromptRenderer } from '../chat-prompt';
import { getCheckpoint, modelFromFiles } from '../checkpoint';
import { ADAPTER_FILES, LoraAdapters } from '../lora';
import type { Qwen2Model } from '../qwen2';
import type { Tokenizer } from '../tokenizer';
import type { ServedCheckpoint } from '../resolve-checkpoint';

/** A policy loaded for serving: the model (LoRA adapters merged in), its tokenizer and its chat template. */
export interface ServedPolicy {
  id: string;
  model: Qwen2Model;
  tokenizer: Tokenizer;
  renderer: PromptRenderer;
  /** Unix seconds the policy was loaded (the `created` of `/v1/models`). */
  created: number;
  /** Whether PEFT adapter files in the checkpoint were merged into the weights. */
  mergedLora: boolean;
}

export async function loadServedPolicy(store: ArtifactStore, served: ServedCheckpoint): Promise<ServedPolicy> {
  const files = await getCheckpoint(store, served.ref);
  const source = `checkpoint ${served.ref.sha256.slice(0, 12)}`;
  const { model, tokenizer } = modelFromFiles(files, source);
  // An unmerged LoRA checkpoint holds the untouched base plus the adapters: serve base + adapters as one W.
  const mergedLora = ADAPTER_FILES.every((f) => files.has(f));
  if (mergedLora) {
    const adapters = LoraAdapters.fromFiles(model, files, source);
    adapters.mergeInto(model);
    adapters.dispose();
  }
  return { id: served.id, model, tokenizer, renderer: PromptRenderer.forCheckpoint(files, tokenizer, source), created: Math.floor(Date.now() / 1000), mergedLora };
}
