import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { targetOf, type TaskSpec } from '../../core/task-schema';
import { parseCsv, type CsvTable } from './csv';
import { HOST_PYTHON, runHost } from './host-run';
import * as m from './metrics';
import { prepareTask } from './prepare';
import { loadTask } from './registry';

export type ScoreResult = { ok: true; metric: number } | { ok: false; error: string };

/** A submission problem the agent caused: reported as a failed execution, never thrown. */
class SubmissionError extends Error {}

function fail(msg: string): never {
  throw new SubmissionError(msg);
}

function parseNumber(value: string, what: string): number {
  const v = value.trim();
  const n = v === '' ? NaN : Number(v);
  if (!Number.isFinite(n)) fail(`${what}: '${value}' is not a finite number`);
  return n;
}

/** Rows of the submission in the answers' id order, after checking header, shape and ids. */
function alignToAnswers(spec: TaskSpec, sub: CsvTable, answers: CsvTable): string[] {
  const col = targetOf(spec).prediction;
  const idAt = sub.header.indexOf('id');
  const predAt = sub.header.indexOf(col);
  if (idAt < 0 || predAt < 0) fail(`submission.csv needs columns 'id' and '${col}'; its header is [${sub.header.join(', ')}]`);
  if (sub.rows.length !== answers.rows.length) {
    fail(`submission.csv has ${sub.rows.length} rows; data/test.csv has ${answers.rows.length}: one prediction per test row`);
  }
  const byId = new Map<string, string>();
  for (const r of sub.rows) {
    const id = String(parseNumber(r[idAt], `submission.csv id`));
    if (byId.has(id)) fail(`submission.csv has id ${id} twice`);
    byId.set(id, r[predAt]);
  }
  const ansId = answers.header.indexOf('id');
  return answers.rows.map((r) => {
    const p = byId.get(r[ansId]);
    if (p === undefined) fail(`submission.csv has no row for test id ${r[ansId]}`);
    return p;
  });
}

function column(t: CsvTable, name: string): string[] {
  const at = t.header.indexOf(name);
  if (at < 0) throw new Error(`answers.csv has no column '${name}'`);
  return t.rows.map((r) => r[at]);
}

/** Maps a predicted label onto the known labels; integer labels also accept "3.0". */
function normaliseLabels(preds: string[], labels: string[]): string[] {
  const known = new Set(labels);
  return preds.map((raw, i) => {
    const v = raw.trim();
    if (known.has(v)) return v;
    const asInt = v !== '' && Number.isInteger(Number(v)) ? String(Number(v)) : undefined;
    if (asInt !== undefined && known.has(asInt)) return asInt;
    fail(`submission.csv row ${i + 2}: '${raw}' is not one of the labels [${labels.join(', ')}]`);
  });
}

function computeMetric(spec: TaskSpec, hiddenDir: string, preds: string[], answers: CsvTable): number {
  const target = targetOf(spec);
  const [answerCol, eventCol] = target.columns;
  const truth = column(answers, answerCol);
  const numbers = () => preds.map((p, i) => parseNumber(p, `submission.csv row ${i + 2}`));
  const labels = () => JSON.parse(fs.readFileSync(path.join(hiddenDir, 'labels.json'), 'utf8')) as string[];
  const y = () => truth.map(Number);
  switch (spec.metric.name) {
    case 'rmse':
      return m.rmse(y(), numbers());
    case 'mae':
      return m.mae(y(), numbers());
    case 'rmsle': {
      const p = numbers();
      const neg = p.findIndex((v) => v < 0);
      if (neg >= 0) fail(`submission.csv row ${neg + 2}: RMSLE needs predictions >= 0, got ${p[neg]}`);
      return m.rmsle(y(), p);
    }
    case 'poisson_deviance': {
      const p = numbers();
      const bad = p.findIndex((v) => v <= 0);
      if (bad >= 0) fail(`submission.csv row ${bad + 2}: Poisson deviance needs expected counts > 0, got ${p[bad]}`);
      return m.poissonDeviance(y(), p);
    }
    case 'auc':
      return m.rocAuc(truth.map((v) => v === target.positiveLabel), numbers());
    case 'accuracy':
      return m.accuracy(truth, normaliseLabels(preds, labels()));
    case 'macro_f1':
      return m.macroF1(truth, normaliseLabels(preds, labels()));
    case 'qwk': {
      const ls = labels();
      return m.quadraticWeightedKappa(y(), normaliseLabels(preds, ls).map(Number), ls.map(Number).sort((a, b) => a - b));
    }
    case 'c_index':
      return m.concordanceIndex(y(), column(answers, eventCol).map((v) => Number(v) === 1), numbers());
    case 'custom':
      throw new Error('custom metrics are scored by the task’s eval.py');
  }
}

/** Imported MLAgentBench task: its eval.py `get_score(folder)` reads folder/submission.csv. */
async function scoreWithEvalPy(hiddenDir: string, submission: Buffer): Promise<number> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-score-'));
  try {
    fs.writeFileSync(path.join(folder, 'submission.csv'), submission);
    const code = 'import json, sys, eval as e; print(json.dumps(float(e.get_score(sys.argv[1]))))';
    const out = await runHost({ cmd: HOST_PYTHON, args: ['-c', code, folder], cwd: hiddenDir, timeoutMs: 120_000 }).catch(
      (err: Error) => fail(`eval.py get_score failed: ${err.message.split('\n').slice(-3).join(' ')}`),
    );
    return parseNumber(out.stdout.trim().split('\n').pop() ?? '', 'eval.py get_score result');
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Scores a submission.csv against the task's hidden answers, on this host (outside any agent
 * container). A missing, malformed or mis-shaped submission is `ok: false` with the reason.
 */
export async function scoreSubmission(p: { task: string; submission: Buffer | null }): Promise<ScoreResult> {
  const spec = loadTask(p.task);
  const { hiddenDir } = await prepareTask(p.task);
  try {
    if (p.submission === null) fail('submission.csv was not written');
    if (p.submission.length === 0) fail('submission.csv is empty');
    if (spec.metric.name === 'custom') return { ok: true, metric: await scoreWithEvalPy(hiddenDir, p.submission) };
    let sub: CsvTable;
    try {
      sub = parseCsv(p.submission.toString('utf8'));
    } catch (err) {
      fail(`submission.csv is not valid CSV: ${(err as Error).message}`);
    }
    const answers = parseCsv(fs.readFileSync(path.join(hiddenDir, 'answers.csv'), 'utf8'));
    const preds = alignToAnswers(spec, sub, answers);
    const metric = computeMetric(spec, hiddenDir, preds, answers);
    if (!Number.isFinite(metric)) fail(`the ${spec.metric.name} of this submission is not finite`);
    return { ok: true, metric };
  } catch (err) {
    if (err instanceof SubmissionError) return { ok: false, error: err.message };
    throw err;
  }
}
