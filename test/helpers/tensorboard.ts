import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** Scalars of an event-file directory, read by the `tensorboard` package (installed by make setup into .venv). */
export function readTensorboardScalars(logdir: string): Record<string, { step: number; value: number }[]> {
  const py = path.join(__dirname, '../../.venv/bin/python');
  const script = [
    'import json, sys',
    'from tensorboard.backend.event_processing.event_accumulator import EventAccumulator',
    'acc = EventAccumulator(sys.argv[1]); acc.Reload()',
    'print(json.dumps({t: [{"step": e.step, "value": e.value} for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}))',
  ].join('\n');
  const r = spawnSync(py, ['-c', script, logdir], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`reading TensorBoard events needs the tensorboard package in .venv (run \`make setup\`): ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, { step: number; value: number }[]>;
}
