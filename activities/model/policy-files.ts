import { ArtifactRef } from '../../core/artifact-ref';
import { ArtifactStore } from '../artifact-store';
import { CheckpointFiles, getCheckpoint, modelFromFiles } from '../../model/checkpoint';
import { DEFAULT_CPU_CONFIG, parseModelConfig } from '../../model/config';
import { Qwen2Model } from '../../model/qwen2';
import { Tokenizer } from '../../model/tokenizer';

/** A model and tokenizer from a checkpoint artifact, or a fresh one whose tokenizer is trained on `corpus`. */
export async function loadOrInitPolicy(p: {
  store: ArtifactStore;
  base?: ArtifactRef;
  modelConfig?: Record<string, unknown>;
  corpus: string[];
  vocabSize: number;
  seed: number;
}): Promise<{ model: Qwen2Model; tokenizer: Tokenizer; files?: CheckpointFiles }> {
  if (p.base) {
    const files = await getCheckpoint(p.store, p.base);
    return { ...modelFromFiles(files, `checkpoint ${p.base.sha256.slice(0, 12)}`), files };
  }
  const tokenizer = Tokenizer.train({ texts: p.corpus, vocabSize: p.vocabSize });
  const config = parseModelConfig({ ...DEFAULT_CPU_CONFIG, ...p.modelConfig, vocab_size: tokenizer.vocabSize }, 'modelConfig');
  return { model: Qwen2Model.init(config, p.seed), tokenizer };
}
