import path from 'node:path';
import { mlagentHome } from '../../core/home';
import { activeBackend, nativeTf } from '../../model/backend';

/** Scalars of one training run, written as TensorBoard event files by tfjs-node's own summary writer. */
export interface ScalarLog {
  readonly logdir: string;
  scalars(step: number, values: Record<string, number>): void;
  flush(): void;
}

/**
 * Where a run's event files go: `tensorboard --logdir $MLAGENT_HOME/tensorboard` shows every run. A stage run as a
 * pipeline's child (workflow id `<pipeline>/<stage>`) writes under the pipeline's folder, next to its other stages.
 */
export function tensorboardDir(run: string, stage: string): string {
  const owner = run.endsWith(`/${stage}`) ? run.slice(0, -stage.length - 1) : run;
  return path.join(mlagentHome(), 'tensorboard', owner.replace(/[^A-Za-z0-9_.-]/g, '_'), stage);
}

/**
 * Opens the event-file writer of `run`/`stage`. Only the native backend has one (tfjs-node's
 * `tf.node.summaryFileWriter`); on wasm/cpu the run trains all the same and says where no log went.
 */
export function openScalarLog(p: { run: string; stage: string; log: (m: string) => void }): ScalarLog | undefined {
  const logdir = tensorboardDir(p.run, p.stage);
  if (activeBackend() !== 'tensorflow') {
    p.log(`no TensorBoard events for ${p.stage}: backend ${activeBackend()} has no summary writer (tfjs-node has)`);
    return undefined;
  }
  const writer = nativeTf().node.summaryFileWriter(logdir);
  p.log(`TensorBoard events: ${logdir}`);
  return {
    logdir,
    scalars(step, values) {
      for (const [name, v] of Object.entries(values)) if (Number.isFinite(v)) writer.scalar(name, v, step);
    },
    flush: () => writer.flush(),
  };
}
