import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { mlagentHome } from '../../core/home';
import { targetOf, type TaskSpec } from '../../core/task-schema';
import { HOST_PYTHON, RSCRIPT, runHost } from './host-run';
import { loadTask, taskDir } from './registry';

export type PreparedTask = { publicDir: string; hiddenDir: string; hash: string };
type Manifest = { hash: string; files: Record<string, string> };

const SPLIT_SCRIPT = path.join(__dirname, 'split.py');
const R_EXPORT_LIB = path.join(__dirname, 'export-lib.R');
const PREPARE_TIMEOUT_MS = 10 * 60_000;
const CLASSIFICATION = new Set(['auc', 'accuracy', 'macro_f1', 'qwk']);

/** Public files the task folder itself provides (starter script …); data/ and README.md are produced. */
function sourcePublicFiles(spec: TaskSpec): string[] {
  return spec.publicFiles.filter((f) => !f.startsWith('data/') && f !== 'README.md');
}

function filesUnder(root: string, rel = ''): string[] {
  const dir = path.join(root, rel);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? filesUnder(root, path.join(rel, d.name)) : [path.join(rel, d.name)]))
    .sort();
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Cache key: everything that decides the produced files (code, provenance, public sources), not m_init/m_best. */
export function prepareHash(spec: TaskSpec): string {
  const dir = taskDir(spec.name);
  const h = createHash('sha256');
  const { fileSha256: _recorded, ...provenance } = spec.provenance;
  h.update(JSON.stringify({ provenance, target: spec.target, metric: spec.metric, problem: spec.researchProblem, files: spec.publicFiles }));
  const code =
    spec.provenance.kind === 'debian'
      ? [SPLIT_SCRIPT, R_EXPORT_LIB, path.join(dir, spec.provenance.loader), ...sourcePublicFiles(spec).map((f) => path.join(dir, f))]
      : filesUnder(path.join(dir, 'mlab')).map((f) => path.join(dir, 'mlab', f));
  for (const f of code) h.update(`\0${path.basename(f)}\0`).update(fs.readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

function readme(spec: TaskSpec): string {
  const better = spec.metric.direction === 'higher' ? 'higher is better' : 'lower is better';
  return [
    `# ${spec.name}`,
    '',
    spec.researchProblem.trim(),
    '',
    '## Files',
    ...spec.publicFiles.map((f) => `- \`${f}\``),
    '',
    '## Submission',
    `Run \`python3 train.py\`; it must write \`submission.csv\` with columns \`id,${targetOf(spec).prediction}\`, one row per row of \`data/test.csv\`.`,
    `Metric: ${spec.metric.name} (${better}). The test answers are not in this workspace.`,
    '',
  ].join('\n');
}

async function buildDebian(spec: TaskSpec & { provenance: { kind: 'debian' } }, staging: string): Promise<void> {
  const dir = taskDir(spec.name);
  const raw = path.join(staging, 'raw');
  const pub = path.join(staging, 'public');
  const hidden = path.join(staging, 'hidden');
  for (const d of [raw, path.join(pub, 'data'), hidden]) fs.mkdirSync(d, { recursive: true });
  const loader = path.join(dir, spec.provenance.loader);
  const r = loader.endsWith('.R');
  const args = r ? [loader, raw, R_EXPORT_LIB] : [loader, raw];
  await runHost({ cmd: r ? RSCRIPT : HOST_PYTHON, args, cwd: dir, timeoutMs: PREPARE_TIMEOUT_MS });
  const splitSpec = {
    split: spec.provenance.split,
    seed: spec.provenance.splitSeed,
    subsample: spec.provenance.subsample ?? null,
    target: targetOf(spec).columns,
    classification: CLASSIFICATION.has(spec.metric.name),
  };
  const out = await runHost({
    cmd: HOST_PYTHON,
    args: [SPLIT_SCRIPT, JSON.stringify(splitSpec), raw, path.join(pub, 'data'), hidden],
    cwd: dir,
    timeoutMs: PREPARE_TIMEOUT_MS,
  });
  const rows = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as { train: number; test: number };
  const want = spec.provenance.rowsUsed;
  if (rows.train !== want.train || rows.test !== want.test) {
    throw new Error(`task ${spec.name}: prepare produced ${rows.train}/${rows.test} train/test rows, task.json provenance.rowsUsed says ${want.train}/${want.test}`);
  }
  fs.rmSync(raw, { recursive: true });
  for (const f of sourcePublicFiles(spec)) fs.copyFileSync(path.join(dir, f), path.join(pub, f));
  fs.writeFileSync(path.join(pub, 'README.md'), readme(spec));
}

/** MLAgentBench layout: prepare.py runs in scripts/ and writes into ../env; env becomes public, scripts hidden. */
async function buildMlab(spec: TaskSpec, staging: string): Promise<void> {
  const src = path.join(taskDir(spec.name), 'mlab');
  fs.cpSync(path.join(src, 'env'), path.join(staging, 'env'), { recursive: true });
  fs.cpSync(path.join(src, 'scripts'), path.join(staging, 'scripts'), { recursive: true });
  if (fs.existsSync(path.join(staging, 'scripts', 'prepare.py'))) {
    await runHost({ cmd: HOST_PYTHON, args: ['prepare.py'], cwd: path.join(staging, 'scripts'), timeoutMs: PREPARE_TIMEOUT_MS });
  }
  fs.renameSync(path.join(staging, 'env'), path.join(staging, 'public'));
  fs.renameSync(path.join(staging, 'scripts'), path.join(staging, 'hidden'));
  fs.rmSync(path.join(staging, 'hidden', '__pycache__'), { recursive: true, force: true });
}

function checkOutputs(spec: TaskSpec, staging: string): Record<string, string> {
  const pub = filesUnder(path.join(staging, 'public'));
  const extra = pub.filter((f) => !spec.publicFiles.includes(f));
  const absent = spec.publicFiles.filter((f) => !pub.includes(f));
  if (extra.length || absent.length) {
    throw new Error(`task ${spec.name}: public files differ from task.json publicFiles (unexpected: [${extra.join(', ')}], missing: [${absent.join(', ')}])`);
  }
  const files: Record<string, string> = {};
  for (const part of ['public', 'hidden']) {
    for (const f of filesUnder(path.join(staging, part))) files[`${part}/${f}`] = sha256File(path.join(staging, part, f));
  }
  const recorded = spec.provenance.fileSha256;
  if (recorded) {
    const diff = Object.keys({ ...recorded, ...files }).filter((f) => recorded[f] !== files[f]);
    if (diff.length) {
      throw new Error(
        `task ${spec.name}: prepared files differ from the hashes recorded in task.json (${diff.join(', ')}); ` +
          'different Debian package versions? re-record with `npx mlagent tasks calibrate ' + spec.name + '`',
      );
    }
  }
  return files;
}

export function preparedRoot(name: string): string {
  return path.join(mlagentHome(), 'tasks', name);
}

/** Exports, splits and checks a task's data once per prepare hash; later calls return the cached folders. */
export async function prepareTask(name: string): Promise<PreparedTask> {
  const spec = loadTask(name);
  const hash = prepareHash(spec);
  const dest = path.join(preparedRoot(name), hash);
  const result = { publicDir: path.join(dest, 'public'), hiddenDir: path.join(dest, 'hidden'), hash };
  if (fs.existsSync(path.join(dest, 'manifest.json'))) return result;

  const staging = path.join(preparedRoot(name), `.staging-${hash}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(staging, { recursive: true });
  try {
    if (spec.provenance.kind === 'debian') await buildDebian(spec as TaskSpec & { provenance: { kind: 'debian' } }, staging);
    else await buildMlab(spec, staging);
    const manifest: Manifest = { hash, files: checkOutputs(spec, staging) };
    fs.writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2));
    try {
      fs.renameSync(staging, dest);
    } catch (err) {
      // Another process prepared the same hash first; its result is identical.
      if (!fs.existsSync(path.join(dest, 'manifest.json'))) throw err;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return result;
}

/** The file hashes recorded when the task was prepared (for `tasks calibrate` to pin into task.json). */
export function preparedFileHashes(prepared: PreparedTask): Record<string, string> {
  return (JSON.parse(fs.readFileSync(path.join(prepared.publicDir, '..', 'manifest.json'), 'utf8')) as Manifest).files;
}
