import { ApplicationFailure } from '@temporalio/common';
import { ArtifactRef } from '../../core/artifact-ref';
import { ArtifactStore } from '../artifact-store';
import { loadModelRecord } from '../../model/model-registry';
import { DEFAULT_BASE_MODEL, type SftBase } from '../../model/sft-params';
import { CheckpointFiles, getCheckpoint, modelFromFiles } from '../../model/checkpoint';
import { DEFAULT_CPU_CONFIG, parseModelConfig } from '../../model/config';
import { Qwen2Model } from '../../model/qwen2';
import { Tokenizer } from '../../model/tokenizer';

/** BPE statistics settle long before this; the cap keeps tokenizer training to seconds (no heartbeats meanwhile). */
const TOKENIZER_CORPUS_CHARS = 4_000_000;

function capChars(texts: string[], max: number): string[] {
  const out: string[] = [];
  let n = 0;
  for (const t of texts) {
    if (n >= max) break;
    out.push(t.slice(0, max - n));
    n += t.length;
  }
  return out;
}

/**
 * Which model SFT starts from: an explicit checkpoint, a fresh random one (when its config is given), or an
 * imported model by name, DEFAULT_BASE_MODEL when nothing is said. Names are looked up here, in an activity,
 * because the registry is a file on the worker's disk.
 */
export async function resolveSftBase(input: { base?: ArtifactRef; baseModel?: string; modelConfig?: unknown; tokenizerVocabSize?: number }): Promise<SftBase> {
  // Checked here rather than by a zod refinement: other schemas derive from SftInput's shape (omit, pick).
  const fresh = input.modelConfig !== undefined || input.tokenizerVocabSize !== undefined;
  const chosen = [input.base && 'base', input.baseModel && 'baseModel', fresh && 'modelConfig/tokenizerVocabSize'].filter(Boolean);
  if (chosen.length > 1) throw ApplicationFailure.create({ message: `invalid sft input: choose one base: ${chosen.join(' or ')}`, type: 'InvalidInput', nonRetryable: true });
  if (input.base) return { kind: 'checkpoint', checkpoint: input.base };
  if (input.modelConfig !== undefined || input.tokenizerVocabSize !== undefined) return { kind: 'fresh' };
  const name = input.baseModel ?? DEFAULT_BASE_MODEL;
  const record = await loadModelRecord(name);
  if (!record) {
    const hint = name === DEFAULT_BASE_MODEL ? 'run `make setup`, which imports it' : `import it first (npx mlagent model import <file.gguf | hf-dir> --name ${name})`;
    throw ApplicationFailure.create({ message: `SFT base model "${name}" is not imported in MLAGENT_HOME/models: ${hint}`, type: 'BaseModelMissing', nonRetryable: true });
  }
  return { kind: 'model', name, checkpoint: record.checkpoint };
}

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
  const tokenizer = Tokenizer.train({ texts: capChars(p.corpus, TOKENIZER_CORPUS_CHARS), vocabSize: p.vocabSize });
  const config = parseModelConfig({ ...DEFAULT_CPU_CONFIG, ...p.modelConfig, vocab_size: tokenizer.vocabSize }, 'modelConfig');
  return { model: Qwen2Model.init(config, p.seed), tokenizer };
}
