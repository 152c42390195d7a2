import { z } from 'zod';

/** Metrics the scorer implements; `custom` is an imported MLAgentBench task's own `get_score`. */
export const MetricName = z.enum([
  'rmsle',
  'rmse',
  'mae',
  'auc',
  'accuracy',
  'macro_f1',
  'qwk',
  'poisson_deviance',
  'c_index',
  'custom',
]);
export type MetricName = z.infer<typeof MetricName>;

export const Direction = z.enum(['higher', 'lower']);
export type Direction = z.infer<typeof Direction>;

/** The only direction that makes sense for each built-in metric (custom ones say their own). */
export const METRIC_DIRECTION: Record<Exclude<MetricName, 'custom'>, Direction> = {
  rmsle: 'lower',
  rmse: 'lower',
  mae: 'lower',
  poisson_deviance: 'lower',
  auc: 'higher',
  accuracy: 'higher',
  macro_f1: 'higher',
  qwk: 'higher',
  c_index: 'higher',
};

export const Metric = z.object({ name: MetricName, direction: Direction });
export type Metric = z.infer<typeof Metric>;

export const TaskType = z.enum([
  'regression',
  'binary',
  'multiclass',
  'text-binary',
  'image-multiclass',
  'rating',
  'forecast',
  'count',
  'survival',
  'ordinal',
  'mlab',
]);
export type TaskType = z.infer<typeof TaskType>;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const RelPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a relative path inside the task');

/** How the exported table becomes train/test: rows are shuffled with `seed` unless the split is by time or given. */
export const SplitSpec = z.discriminatedUnion('method', [
  z.object({ method: z.literal('random'), testFraction: z.number().gt(0).lt(1), stratify: z.boolean().default(false) }),
  z.object({ method: z.literal('time'), orderBy: z.string().min(1), testFraction: z.number().gt(0).lt(1) }),
  z.object({ method: z.literal('original') }),
]);
export type SplitSpec = z.infer<typeof SplitSpec>;

/** Data from a Debian package, exported by a loader script in the task folder, then split by activities/tasks/split.py. */
export const DebianProvenance = z.object({
  kind: z.literal('debian'),
  debianPackages: z.array(z.string().min(1)).min(1),
  dataset: z.string().min(1),
  loader: RelPath,
  split: SplitSpec,
  splitSeed: z.number().int().nonnegative(),
  subsample: z
    .object({ maxTrainRows: z.number().int().positive().optional(), maxTestRows: z.number().int().positive().optional() })
    .optional(),
  rowsUsed: z.object({ train: z.number().int().positive(), test: z.number().int().positive() }),
  /** sha256 of every produced public/hidden file, recorded by `mlagent tasks calibrate`; prepare checks them. */
  fileSha256: z.record(z.string(), Sha256).optional(),
});

/** A task imported from MLAgentBench's layout: its own prepare.py and eval.py (kept under `mlab/scripts`). */
export const MlabProvenance = z.object({
  kind: z.literal('mlab'),
  source: z.string().min(1),
  readOnlyFiles: z.array(z.string()),
  fileSha256: z.record(z.string(), Sha256).optional(),
});

export const Provenance = z.discriminatedUnion('kind', [DebianProvenance, MlabProvenance]);
export type Provenance = z.infer<typeof Provenance>;

/** What the answers hold and what submission.csv must hold (besides the `id` column). */
export const Target = z.object({
  /** Columns of hidden/answers.csv besides `id` (survival: time, event). */
  columns: z.array(z.string().min(1)).min(1),
  /** The column submission.csv must have besides `id`. */
  prediction: z.string().min(1),
  /** AUC: the label whose probability the prediction is. */
  positiveLabel: z.string().min(1).optional(),
});
export type Target = z.infer<typeof Target>;

export const TaskSpec = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
    split: z.enum(['train', 'heldout']),
    type: TaskType,
    researchProblem: z.string().min(40, 'too short to describe a task'),
    metric: Metric,
    /** Required for built-in metrics; an imported task's eval.py defines its own submission format. */
    target: Target.optional(),
    publicFiles: z.array(RelPath).min(1),
    scriptTimeoutSec: z.number().int().positive(),
    provenance: Provenance,
    m_init: z.number().finite(),
    m_best: z.number().finite(),
  })
  .superRefine((t, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const m = t.metric.name;
    if (m === 'custom') {
      if (t.provenance.kind !== 'mlab') issue(['metric', 'name'], "'custom' is only for imported MLAgentBench tasks");
    } else if (METRIC_DIRECTION[m] !== t.metric.direction) {
      issue(['metric', 'direction'], `${m} is ${METRIC_DIRECTION[m]}-is-better`);
    }
    if (m !== 'custom') {
      if (!t.target) issue(['target'], `required for the ${m} metric`);
      else {
        if (m === 'auc' && !t.target.positiveLabel) issue(['target', 'positiveLabel'], 'auc needs the positive label');
        if (m === 'c_index' && t.target.columns.length !== 2) issue(['target', 'columns'], 'c_index needs [time, event]');
        if (m !== 'c_index' && t.target.columns.length !== 1) issue(['target', 'columns'], `${m} takes one answer column`);
      }
    }
    const better = t.metric.direction === 'higher' ? t.m_best >= t.m_init : t.m_best <= t.m_init;
    if (!better) issue(['m_best'], `must be at least as good as m_init (${t.m_init}) for a ${t.metric.direction}-is-better metric`);
    if (!t.publicFiles.includes('train.py')) issue(['publicFiles'], "must include the starter 'train.py'");
  });
export type TaskSpec = z.infer<typeof TaskSpec>;


/** The target of a task scored by a built-in metric (the schema guarantees it exists for those). */
export function targetOf(spec: TaskSpec): Target {
  if (!spec.target) throw new Error(`task ${spec.name} has no target (metric ${spec.metric.name})`);
  return spec.target;
}
