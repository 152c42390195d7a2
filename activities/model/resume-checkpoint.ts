import { ApplicationFailure } from '@temporalio/common';
import type { ArtifactRef } from '../../core/artifact-ref';
import type { RejectedCheckpoint } from '../../model/sft-params';

/** What the artifact store says of bytes that are not what their ref's hash promises (artifact-store.ts). */
const UNREADABLE = new Set(['ArtifactCorrupt', 'ArtifactMissing']);

/**
 * Loads the newest of a retry's checkpoints (newest first) whose bytes pass the store's hash check, else the
 * run's start (`load(undefined)`: its base). Falling back is safe: a checkpoint holds the whole trainer state
 * (weights, optimizer moments, the loss curve up to its step) and batches depend only on the seed and the step,
 * so resuming from an older one replays the same steps and records each once. A corrupt base is not skipped:
 * its error, non-retryable, ends the run.
 */
export async function loadNewestIntact<T>(p: {
  candidates: (ArtifactRef | undefined)[];
  load: (checkpoint: ArtifactRef | undefined) => Promise<T>;
  log: (message: string) => void;
}): Promise<{ from?: ArtifactRef; older: ArtifactRef[]; rejected: RejectedCheckpoint[]; loaded: T }> {
  const candidates = p.candidates.filter((c): c is ArtifactRef => c !== undefined);
  const rejected: RejectedCheckpoint[] = [];
  for (const [i, ref] of candidates.entries()) {
    try {
      return { from: ref, older: candidates.slice(i + 1), rejected, loaded: await p.load(ref) };
    } catch (err) {
      if (!(err instanceof ApplicationFailure && UNREADABLE.has(err.type ?? ''))) throw err;
      rejected.push({ checkpoint: ref, error: err.message });
      const next = i + 1 < candidates.length ? `the previous checkpoint ${candidates[i + 1].sha256.slice(0, 12)}` : 'the start of the run';
      p.log(`checkpoint ${ref.sha256.slice(0, 12)} rejected (${err.message}); falling back to ${next}`);
    }
  }
  return { older: [], rejected, loaded: await p.load(undefined) };
}
