import { ApplicationFailure } from '@temporalio/common';
import type { ArtifactRef } from '../../core/artifact-ref';
import { Context } from '@temporalio/activity';
import { ArtifactStore } from '../artifact-store';
import { initBackend } from '../../model/backend';
import { z } from 'zod';
import { CheckpointFiles, checkpointFiles, keptFromBase, putCheckpoint } from '../../model/checkpoint';
import { LoraAdapters } from '../../model/lora';
import { AdamW } from '../../model/optim';
import { decodeSafetensors, encodeSafetensors } from '../../model/safetensors';
import { PromptBudgetError } from '../../core/prompt-budget';
import { PromptRenderer } from '../../model/chat-prompt';
import { epochOrder, exampleTexts, packExamples, parseSftJsonl, tokenizeExample } from '../../model/sft-data';
import { SftHeartbeat, SftInput, SftResult, StepRecord } from '../../model/sft-params';
import { evalLoss, totalSteps, trainLoop } from '../../model/sft-trainer';
import { pauseIfRequested } from '../fault-points';
import { loadOrInitPolicy, resolveSftBase } from './policy-files';
import { loadNewestIntact } from './resume-checkpoint';
import { openScalarLog } from './tensorboard';

/** Training progress stored inside each intermediate checkpoint. */
const TrainerState = z.object({ step: z.number().int(), curve: z.array(StepRecord), heldOutBefore: z.number().optional() });
type TrainerState = z.infer<typeof TrainerState>;

/**
 * Supervised fine-tuning on (state → expert action) pairs, loss on response tokens only. Every
 * `checkpointEvery` steps the weights, optimizer moments and the loss curve so far go to the artifact store and
 * the ref into the heartbeat; a retry (e.g. after the worker was killed) resumes from that checkpoint, so each
 * step appears exactly once in the recorded curve.
 */
export async function sftTrain(rawInput: SftInput): Promise<SftResult> {
  const input = SftInput.parse(rawInput);
  const ctx = Context.current();
  const log = (m: string) => console.log(`[sft ${ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId}] ${m}`);
  await initBackend(log);
  const store = new ArtifactStore();
  let examples;
  try {
    examples = parseSftJsonl((await store.get(input.dataset)).toString('utf8'), `dataset ${input.dataset.sha256.slice(0, 12)}`);
  } catch (err) {
    // A malformed dataset stays malformed: fail the run now instead of retrying.
    throw err instanceof ApplicationFailure ? err : ApplicationFailure.create({ message: (err as Error).message, type: 'InvalidDataset', nonRetryable: true });
  }

  const order = epochOrder(examples.length, input.seed, -1);
  const nHeld = Math.floor(examples.length * input.heldOutFraction);
  const heldOut = order.slice(0, nHeld).map((i) => examples[i]);
  const train = order.slice(nHeld).map((i) => examples[i]);

  const resume = SftHeartbeat.safeParse(ctx.info.heartbeatDetails);
  const base = await resolveSftBase(input);
  const baseRef = base.kind === 'fresh' ? undefined : base.checkpoint;
  // A retry resumes from its last checkpoint, or the one before when that one fails the store's hash check.
  const resumed = await loadNewestIntact({
    candidates: resume.success ? [resume.data.checkpoint, resume.data.previous] : [],
    load: (checkpoint) => loadOrInitPolicy({
      store,
      base: checkpoint ?? baseRef,
      modelConfig: input.modelConfig,
      corpus: examples.flatMap(exampleTexts),
      vocabSize: input.tokenizerVocabSize ?? 4096,
      seed: input.seed,
    }),
    log,
  });
  const resumeFrom = resumed.from;
  const { model, tokenizer } = resumed.loaded;
  let files = resumed.loaded.files;
  resumed.loaded.files = undefined;
  // The base's template renders the examples; trained checkpoints keep it (and provenance) for acting.
  const renderer = PromptRenderer.forCheckpoint(files ?? new Map(), tokenizer, 'base');
  if (input.gradientCheckpointing !== undefined) model.gradientCheckpointing = input.gradientCheckpointing;
  // LoRA: a resumed run continues its saved adapters (the checkpoint's weights are the untouched base)
  const adapters = !input.lora ? undefined : resumeFrom && files?.has('adapter_config.json') ? LoraAdapters.fromFiles(model, files, 'resumed checkpoint') : LoraAdapters.init(model, input.lora, input.seed);
  model.adapters = adapters;
  const baseName = baseRef ? `artifact:${baseRef.sha256}` : 'mlagent-init';
  /** The model's files; with adapters the base weights plus the PEFT adapter files. */
  const modelFiles = (): CheckpointFiles => {
    const out = checkpointFiles(model, tokenizer, files);
    for (const [name, data] of adapters?.files(baseName) ?? []) out.set(name, data);
    return out;
  };
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: input.weightDecay });
  try {
    let state: TrainerState = { step: 0, curve: [] };
    if (resumeFrom && files) {
      state = TrainerState.parse(JSON.parse(files.get('trainer_state.json')?.toString('utf8') ?? 'null'));
      optimizer.load(decodeSafetensors(files.get('optimizer.safetensors') ?? Buffer.alloc(0), 'optimizer.safetensors').tensors, state.step);
      log(`resuming from the step-${state.step} checkpoint (attempt ${ctx.info.attempt})`);
    }
    // the weights (0.5 GB for the default model) and a resumed optimizer state (1 GB) live in tensors now
    files = files && keptFromBase(files);
    const { curve, step: startStep } = state;

    const maxLen = Math.min(input.seqLen, model.config.max_position_embeddings);
    const pack = (exs: typeof examples, part: string) => {
      try {
        return packExamples(exs.map((example, i) => tokenizeExample({ renderer, tokenizer, example, seqLen: maxLen, source: `${part} example ${i + 1}` })), maxLen);
      } catch (err) {
        // An example that cannot fit stays so: fail the run with what to change instead of retrying.
        throw err instanceof PromptBudgetError ? ApplicationFailure.create({ message: err.message, type: 'PromptBudget', nonRetryable: true }) : err;
      }
    };
    const rows = pack(train, 'training');
    const heldRows = nHeld ? pack(heldOut, 'held-out') : [];
    const total = totalSteps(rows.length, input);
    log(`${train.length} examples in ${rows.length} packed rows of ${maxLen}; ${total} steps, ${model.parameterCount()} parameters; base ${base.kind === 'model' ? base.name : base.kind}, ${renderer.template ? 'its chat template' : 'plain prompt rendering (no chat template)'}`);

    let lastCheckpoint = resumeFrom;
    let previousCheckpoint: ArtifactRef | undefined = resumed.older[0];
    let lastBeat: SftHeartbeat = { step: startStep, loss: curve.at(-1)?.loss, checkpoint: resumeFrom, previous: previousCheckpoint };
    // Between micro-batches and held-out batches, not only between steps: one pass of the 135M default takes minutes under load.
    // Lets heartbeats and a cancellation through between the synchronous tf passes.
    const yieldToEventLoop = async () => {
      await new Promise((r) => setImmediate(r));
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
    };
    const beatAndYield = async () => {
      ctx.heartbeat(lastBeat);
      await yieldToEventLoop();
    };
    const heldOutLossOf = () => evalLoss({ model, rows: heldRows, batchSize: input.microBatchSize ?? input.batchSize, afterBatch: beatAndYield });
    const before = heldRows.length ? (state.heldOutBefore ?? (await heldOutLossOf())) : undefined;

    const scalars = openScalarLog({ run: ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId, stage: 'sft', log });
    const saveTrainingCheckpoint = async (step: number) => {
      const files = modelFiles();
      files.set('optimizer.safetensors', encodeSafetensors(optimizer.state()));
      files.set('trainer_state.json', Buffer.from(JSON.stringify({ step, curve, heldOutBefore: before } satisfies TrainerState)));
      return putCheckpoint(store, files);
    };
    await trainLoop({
      model, optimizer, rows, startStep, attempt: ctx.info.attempt,
      hyper: input,
      afterMicroBatch: beatAndYield,
      afterStep: async (rec) => {
        curve.push(rec);
        scalars?.scalars(rec.step, { 'sft/loss': rec.loss, 'sft/lr': rec.lr, 'sft/grad_norm': rec.gradNorm });
        if (rec.step % input.checkpointEvery === 0 && rec.step < total) {
          previousCheckpoint = lastCheckpoint;
          lastCheckpoint = await saveTrainingCheckpoint(rec.step);
        }
        const beat: SftHeartbeat = { step: rec.step, loss: rec.loss, checkpoint: lastCheckpoint, previous: previousCheckpoint };
        lastBeat = beat;
        ctx.heartbeat(beat);
        log(`step ${rec.step}/${total} loss ${rec.loss.toFixed(4)} lr ${rec.lr.toExponential(2)}`);
        await pauseIfRequested(`sft-step-${rec.step}`, beat);
        await yieldToEventLoop();
      },
    });
    const after = heldRows.length ? await heldOutLossOf() : undefined;
    if (before !== undefined && after !== undefined) scalars?.scalars(total, { 'sft/held_out_loss_before': before, 'sft/held_out_loss_after': after });
    scalars?.flush();
    const checkpoint = await putCheckpoint(store, modelFiles());
    let mergedCheckpoint;
    if (adapters) {
      adapters.mergeInto(model);
      mergedCheckpoint = await putCheckpoint(store, checkpointFiles(model, tokenizer, files));
    }
    const heldOutLoss = before !== undefined && after !== undefined ? { before, after } : undefined;
    const lossCurve = await store.putJson({ steps: curve, heldOutLoss }, 'sft-loss-curve');
    return { base, checkpoint, mergedCheckpoint, lossCurve, steps: total, finalLoss: curve[curve.length - 1]?.loss ?? NaN, resumedFromStep: startStep, heldOutLoss, rejectedCheckpoints: resumed.rejected.length ? resumed.rejected : undefined };
  } finally {
    model.dispose();
    adapters?.dispose();
    optimizer.dispose();
  }
}
