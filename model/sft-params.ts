import { z } from 'zod';
import { ArtifactRef } from '../core/artifact-ref';
import { LoraOptions } from './lora-config';

/** The imported pretrained model SFT starts from when no other base is chosen (`make setup` imports it). */
export const DEFAULT_BASE_MODEL = 'smollm2-135m-instruct';

/** Input of the `sft` workflow / `sftTrain` activity (pure: the workflow bundle imports it). */
export const SftInput = z.object({
  /** JSONL artifact of the collection's SFT dataset (chat messages + state a line; old {"prompt", "response"} lines read too). */
  dataset: ArtifactRef,
  /** Checkpoint (tar artifact) to fine-tune. */
  base: ArtifactRef.optional(),
  /**
   * A model imported by name (MLAGENT_HOME/models), looked up by the activity. Without `base`, `modelConfig` and
   * `tokenizerVocabSize` it is DEFAULT_BASE_MODEL; the result records which checkpoint it named.
   */
  baseModel: z.string().min(1).optional(),
  /** A fresh random model (fast tests): overrides of the default CPU config. */
  modelConfig: z.record(z.string(), z.unknown()).optional(),
  /** A fresh random model: its BPE vocabulary, trained on the dataset text (4096 when only `modelConfig` is given). */
  tokenizerVocabSize: z.number().int().min(300).optional(),
  epochs: z.number().int().positive().default(2),
  /** Stop after this many optimizer steps even if the epochs are not done (a CPU time budget, like HF's max_steps). */
  maxSteps: z.number().int().positive().optional(),
  batchSize: z.number().int().positive().default(8),
  /** Tokens per packed row: a prompt (its history shortened to fit) plus the action; fits SmolLM2 on CPU. */
  seqLen: z.number().int().min(8).default(2048),
  lr: z.number().positive().default(3e-4),
  warmupSteps: z.number().int().nonnegative().default(10),
  minLrRatio: z.number().min(0).max(1).default(0.1),
  weightDecay: z.number().nonnegative().default(0.01),
  clipNorm: z.number().positive().default(1),
  checkpointEvery: z.number().int().positive().default(50),
  /** Fraction of examples held out to measure loss before and after training (0 = none). */
  heldOutFraction: z.number().min(0).max(0.5).default(0),
  seed: z.number().int().default(0),
  /** Rows per forward/backward pass; gradients are accumulated over the batch (default: the whole batch at once). */
  microBatchSize: z.number().int().positive().optional(),
  /** Recompute decoder layers in the backward pass (default: on from 50M parameters). */
  gradientCheckpointing: z.boolean().optional(),
  /** Train LoRA adapters instead of all weights; the checkpoint then holds the base plus PEFT adapter files. */
  lora: LoraOptions.optional(),
  /**
   * Heartbeat timeout of the activity: how quickly a dead model worker is noticed. The worker beats after every
   * micro-batch, so this must exceed one micro-batch's forward + backward (about 20 s for 2048 tokens of the
   * 135M default on 2 idle cores, minutes on a loaded machine).
   */
  heartbeatTimeoutSeconds: z.number().int().min(1).default(300),
  /** A training attempt no model worker has picked up within this long fails the run (no worker is running). */
  modelWorkerLostAfterSec: z.number().int().min(1).default(300),
}).strict();
export type SftInput = z.output<typeof SftInput>;

export const StepRecord = z.object({ step: z.number().int(), loss: z.number(), lr: z.number(), gradNorm: z.number(), attempt: z.number().int() });
export type StepRecord = z.infer<typeof StepRecord>;

/** What a heartbeat carries: progress and the checkpoint a retry resumes from. */
/** `loss` is absent in the beats sent inside the first step of an attempt (no step of it has finished yet). */
/** `previous`: the checkpoint before `checkpoint`, what a retry falls back to when `checkpoint` is corrupt or gone. */
export const SftHeartbeat = z.object({ step: z.number().int(), loss: z.number().optional(), checkpoint: ArtifactRef.optional(), previous: ArtifactRef.optional() });
export type SftHeartbeat = z.infer<typeof SftHeartbeat>;

export type RejectedCheckpoint = { checkpoint: ArtifactRef; error: string };

/** The model SFT started from, as the run resolved it. */
export type SftBase = { kind: 'checkpoint'; checkpoint: ArtifactRef } | { kind: 'model'; name: string; checkpoint: ArtifactRef } | { kind: 'fresh' };

export interface SftResult {
  base: SftBase;
  /** with `lora`: the base weights plus adapter_config.json and adapter_model.safetensors (PEFT's format) */
  checkpoint: ArtifactRef;
  /** with `lora`: the adapters merged into the weights, a plain checkpoint */
  mergedCheckpoint?: ArtifactRef;
  lossCurve: ArtifactRef;
  steps: number;
  finalLoss: number;
  /** Step this attempt started from (0 = from scratch). */
  resumedFromStep: number;
  /** Checkpoints this attempt could have resumed from but rejected (corrupt or missing), newest first. */
  rejectedCheckpoints?: RejectedCheckpoint[];
  heldOutLoss?: { before: number; after: number };
}
