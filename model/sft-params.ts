import { z } from 'zod';
import { ArtifactRef } from '../core/artifact-ref';

/** Input of the `sft` workflow / `sftTrain` activity (pure: the workflow bundle imports it). */
export const SftInput = z.object({
  /** JSONL artifact of {"prompt", "response"} lines from trajectory collection. */
  dataset: ArtifactRef,
  /** Checkpoint (tar artifact) to fine-tune; without one a fresh model of `modelConfig` is initialised. */
  base: ArtifactRef.optional(),
  /** Overrides of the default CPU config for a fresh model. */
  modelConfig: z.record(z.string(), z.unknown()).optional(),
  /** BPE vocabulary for a fresh model's tokenizer, trained on the dataset text. */
  tokenizerVocabSize: z.number().int().min(300).default(4096),
  epochs: z.number().int().positive().default(2),
  batchSize: z.number().int().positive().default(8),
  seqLen: z.number().int().min(8).default(256),
  lr: z.number().positive().default(3e-4),
  warmupSteps: z.number().int().nonnegative().default(10),
  minLrRatio: z.number().min(0).max(1).default(0.1),
  weightDecay: z.number().nonnegative().default(0.01),
  clipNorm: z.number().positive().default(1),
  checkpointEvery: z.number().int().positive().default(50),
  /** Fraction of examples held out to measure loss before and after training (0 = none). */
  heldOutFraction: z.number().min(0).max(0.5).default(0),
  seed: z.number().int().default(0),
  /** Heartbeat timeout of the activity: how quickly a dead model worker is noticed. */
  heartbeatTimeoutSeconds: z.number().int().min(1).default(60),
});
export type SftInput = z.output<typeof SftInput>;

export const StepRecord = z.object({ step: z.number().int(), loss: z.number(), lr: z.number(), gradNorm: z.number(), attempt: z.number().int() });
export type StepRecord = z.infer<typeof StepRecord>;

/** What a heartbeat carries: progress and the checkpoint a retry resumes from. */
export const SftHeartbeat = z.object({ step: z.number().int(), loss: z.number(), checkpoint: ArtifactRef.optional() });
export type SftHeartbeat = z.infer<typeof SftHeartbeat>;

export interface SftResult {
  checkpoint: ArtifactRef;
  lossCurve: ArtifactRef;
  steps: number;
  finalLoss: number;
  /** Step this attempt started from (0 = from scratch). */
  resumedFromStep: number;
  heldOutLoss?: { before: number; after: number };
}
