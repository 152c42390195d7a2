import { Direction, TaskSpec } from '../../core/task-schema';
import { calibrateTask } from '../../activities/tasks/calibrate';
import { importMlab } from '../../activities/tasks/import-mlab';
import { prepareTask } from '../../activities/tasks/prepare';
import { listTasks, loadTask } from '../../activities/tasks/registry';
import { M_INIT_TOLERANCE, validateTasks } from '../../activities/tasks/validate';

export const describe = 'task suite: tasks list [--json] | validate [NAME…] [--json] | prepare [NAME…] | calibrate NAME… | import-mlab DIR';

const USAGE = `usage:
  mlagent tasks list [--json]                 every task: split, type, metric, direction, m_init, m_best
  mlagent tasks validate [NAME…] [--json]     prepare, run the starter in the sandbox, score, check m_init; non-zero exit on failure
  mlagent tasks prepare [NAME…]               export and split the data (cached by hash)
  mlagent tasks calibrate NAME…               re-measure m_init (starter) and m_best (reference/solution.py), pin file hashes
  mlagent tasks import-mlab DIR --direction higher|lower [--name NAME] [--split train|heldout]`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const fmt = (x: number | null) => (x === null ? '-' : Number(x.toPrecision(6)).toString());

function names(argv: string[]): string[] {
  const given = argv.filter((a) => !a.startsWith('--'));
  for (const n of given) loadTask(n); // unknown names fail before any work
  return given.length ? given : listTasks().map((t) => t.name);
}

function list(argv: string[]): number {
  const tasks = listTasks();
  if (argv.includes('--json')) {
    console.log(JSON.stringify(tasks.map((t) => ({ name: t.name, split: t.split, type: t.type, metric: t.metric.name, direction: t.metric.direction, m_init: t.m_init, m_best: t.m_best })), null, 2));
    return 0;
  }
  console.log(table(['task', 'split', 'type', 'metric', 'direction', 'm_init', 'm_best'], tasks.map((t) => [t.name, t.split, t.type, t.metric.name, t.metric.direction, fmt(t.m_init), fmt(t.m_best)])));
  return 0;
}

async function validate(argv: string[]): Promise<number> {
  // One scan of the sandbox image covers every named task's hidden content (validateTasks).
  const rows = await validateTasks(names(argv));
  if (!argv.includes('--json')) for (const row of rows) console.error(`${row.ok ? 'ok  ' : 'FAIL'} ${row.task}${row.ok ? '' : `: ${row.problems.join('; ')}`}`);
  if (argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
  else {
    console.log(
      table(
        ['task', 'split', 'metric', 'm_init', 'score', 'prepare_s', 'run_s', 'result'],
        rows.map((r) => [r.task, r.split, r.metric, fmt(r.m_init), fmt(r.score), r.prepareSec.toFixed(1), r.runSec.toFixed(1), r.ok ? 'ok' : 'FAIL']),
      ),
    );
    const failed = rows.filter((r) => !r.ok).length;
    console.log(`\n${rows.length - failed}/${rows.length} tasks ok (m_init tolerance ${M_INIT_TOLERANCE} relative; starter limit 30 s)`);
  }
  return rows.every((r) => r.ok) ? 0 : 1;
}

async function prepare(argv: string[]): Promise<number> {
  for (const n of names(argv)) {
    const t0 = performance.now();
    const p = await prepareTask(n);
    console.log(`${n.padEnd(20)} ${p.hash}  ${((performance.now() - t0) / 1000).toFixed(1)} s  ${p.publicDir}`);
  }
  return 0;
}

async function calibrate(argv: string[]): Promise<number> {
  if (!argv.length) throw new Error('calibrate: name the task(s) to re-measure');
  for (const n of names(argv)) {
    const c = await calibrateTask(n);
    console.log(`${n.padEnd(20)} m_init ${fmt(c.m_init)}  reference ${fmt(c.reference)} (${c.referenceSec?.toFixed(1) ?? '-'} s)  m_best ${fmt(c.m_best)}`);
  }
  return 0;
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function importCmd(argv: string[]): Promise<number> {
  const dir = argv[0];
  if (!dir || dir.startsWith('--')) throw new Error('import-mlab: give the MLAgentBench task folder');
  const direction = Direction.safeParse(flag(argv, '--direction'));
  if (!direction.success) throw new Error("import-mlab: --direction higher|lower is required (is a larger get_score better?)");
  const split = TaskSpec.shape.split.safeParse(flag(argv, '--split') ?? 'train');
  if (!split.success) throw new Error('import-mlab: --split must be train or heldout');
  const spec = await importMlab({ dir, name: flag(argv, '--name'), split: split.data, direction: direction.data });
  console.log(`imported ${spec.name}: ${spec.publicFiles.length} public files, m_init ${fmt(spec.m_init)}`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'list':
      return list(rest);
    case 'validate':
      return validate(rest);
    case 'prepare':
      return prepare(rest);
    case 'calibrate':
      return calibrate(rest);
    case 'import-mlab':
      return importCmd(rest);
    default:
      console.error(USAGE);
      return 2;
  }
}
