import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseCsv, type CsvTable } from './csv';

/**
 * What hidden-scan.py looks for in a sandbox, for one task: whole-file hashes of the hidden and public files,
 * and content windows that survive any re-serialisation (see hidden-scan.py):
 * - `answers`: runs of consecutive hidden answers (answers.csv's target fields in test order). A copy of the
 *   answers in any format holds them in this order; so does source data when test rows keep their order.
 * - `rows`: test rows' feature fields (public test.csv). The public test.csv itself is skipped by hash, so any
 *   other file holding them is a copy of the source data, which holds the answers next to them.
 * - `records`: a test row's features with its answer, in any column order (the source's order is unknown): a
 *   source table with the test rows shuffled holds them only row by row. Only rows with RECORD_RARE_FIELDS rare
 *   values are used, or any few rows of small integers would do.
 * Each window is long enough to be improbable by chance (ANSWER_BITS, ROW_BITS, from the fields' frequencies).
 */
export type HiddenFingerprints = {
  task: string;
  fileHashes: Record<string, string[]>;
  publicHashes: Record<string, string[]>;
  answers: string[][];
  rows: string[][];
  records: string[][];
};

const WINDOWS = 12;
/** -log2 of a window's probability under its fields' own frequencies: 2^-64 per position is never chance. */
const ANSWER_BITS = 64;
/** Features are correlated (neighbouring pixels, one row's columns), so their frequency estimate is generous. */
const ROW_BITS = 128;
const MAX_FIELDS = 512;
/** A window dominated by one value (a run of zeros) matches runs in unrelated data, whatever its bit count. */
const MAX_SHARE_OF_ONE_VALUE = 0.9;
/** A record needs this many fields whose value is rarer than 1 in 2^RARE_BITS in its column and in the whole table. */
const RECORD_RARE_FIELDS = 3;
const RARE_BITS = 6;
/** Wider rows are distinctive enough as `rows` windows; a record is matched within its own span, so it stays short. */
const MAX_RECORD_FIELDS = 64;
const MISSING = new Set(['', 'NA', 'NaN', 'nan', 'None', 'null', 'NULL']);

export function hiddenFingerprints(task: string, dirs: { publicDir: string; hiddenDir: string }): HiddenFingerprints {
  const answers = readCsv(path.join(dirs.hiddenDir, 'answers.csv'));
  const test = readCsv(path.join(dirs.publicDir, 'data', 'test.csv'));
  const train = readCsv(path.join(dirs.publicDir, 'data', 'train.csv'));
  return {
    task,
    fileHashes: hashesBySize(dirs.hiddenDir),
    publicHashes: hashesBySize(dirs.publicDir),
    answers: answers ? answerWindows(answers) : [],
    rows: test ? rowWindows(test, train) : [],
    records: test && answers ? recordWindows(test, answers, train) : [],
  };
}

function readCsv(file: string): CsvTable | undefined {
  return fs.existsSync(file) ? parseCsv(fs.readFileSync(file, 'utf8')) : undefined;
}

function hashesBySize(dir: string): Record<string, string[]> {
  const bySize: Record<string, string[]> = {};
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const file = path.join(dir, name);
    if (!fs.statSync(file).isFile()) continue;
    const bytes = fs.readFileSync(file);
    (bySize[bytes.length] ??= []).push(createHash('sha256').update(bytes).digest('hex'));
  }
  return bySize;
}

/** Information of each field, -log2 of its value's frequency in its column. */
function fieldBits(table: CsvTable, cols: number[]): number[][] {
  const counts = cols.map((c) => {
    const m = new Map<string, number>();
    for (const r of table.rows) m.set(r[c], (m.get(r[c]) ?? 0) + 1);
    return m;
  });
  return table.rows.map((r) => cols.map((c, j) => -Math.log2(counts[j].get(r[c])! / table.rows.length)));
}

function diverse(fields: string[]): boolean {
  const m = new Map<string, number>();
  for (const f of fields) m.set(f, (m.get(f) ?? 0) + 1);
  return Math.max(...m.values()) <= MAX_SHARE_OF_ONE_VALUE * fields.length;
}

/** Evenly spread starting rows, so a leak of any part of the table is found. */
function starts(n: number): number[] {
  return Array.from({ length: Math.min(WINDOWS, n) }, (_, i) => Math.floor((i * n) / Math.min(WINDOWS, n)));
}

function answerWindows(answers: CsvTable): string[][] {
  const cols = answers.header.map((_, i) => i).filter((i) => answers.header[i] !== 'id');
  const bits = fieldBits(answers, cols);
  const windows: string[][] = [];
  for (const s of starts(answers.rows.length)) {
    const fields: string[] = [];
    let total = 0;
    for (let r = s; r < answers.rows.length && total < ANSWER_BITS && fields.length < MAX_FIELDS; r++) {
      fields.push(...cols.map((c) => answers.rows[r][c]));
      total += bits[r].reduce((a, b) => a + b, 0);
    }
    if (total >= ANSWER_BITS && diverse(fields) && !fields.some((f) => MISSING.has(f))) windows.push(fields);
  }
  return windows;
}

/**
 * From each sampled test row: its longest stretch of non-missing fields, cut to ROW_BITS; a row too plain for that
 * (a date, a few small integers) continues into the next rows, which time-ordered data keeps together. A row whose
 * stretch is also a training row's (duplicates happen) would be found in train.csv, so it is not used.
 */
function rowWindows(test: CsvTable, train: CsvTable | undefined): string[][] {
  const cols = test.header.map((_, i) => i).filter((i) => test.header[i] !== 'id');
  const bits = fieldBits(test, cols);
  const trainCols = train ? cols.map((c) => train.header.indexOf(test.header[c])) : [];
  const windows: string[][] = [];
  for (const s of starts(test.rows.length)) {
    const row = cols.map((c) => test.rows[s][c]);
    const [from, to] = bestStretch(row, bits[s]);
    const fields = row.slice(from, to);
    let total = bits[s].slice(from, to).reduce((a, b) => a + b, 0);
    if (total >= ROW_BITS && train && trainCols.every((c) => c >= 0)) {
      const key = fields.join('\u0000');
      if (train.rows.some((r) => trainCols.slice(from, to).map((c) => r[c]).join('\u0000') === key)) continue;
    }
    for (let r = s + 1; total < ROW_BITS && from === 0 && to === row.length && r < test.rows.length && fields.length < MAX_FIELDS; r++) {
      const next = cols.map((c) => test.rows[r][c]);
      if (next.some((f) => MISSING.has(f))) break;
      fields.push(...next);
      total += bits[r].reduce((a, b) => a + b, 0);
    }
    if (total >= ROW_BITS && diverse(fields)) windows.push(fields);
  }
  return windows;
}

/** [from, to) of the row's non-missing stretch with the most bits, shortened from the end to ROW_BITS. */
function bestStretch(row: string[], bits: number[]): [number, number] {
  let best: [number, number, number] = [0, 0, -1];
  for (let i = 0; i < row.length; ) {
    if (MISSING.has(row[i])) {
      i++;
      continue;
    }
    let j = i;
    let sum = 0;
    while (j < row.length && !MISSING.has(row[j])) sum += bits[j++];
    if (sum > best[2]) best = [i, j, sum];
    i = j;
  }
  let [from, to] = best;
  let sum = 0;
  for (let k = from; k < to; k++) {
    sum += bits[k];
    if (sum >= ROW_BITS || k - from + 1 >= MAX_FIELDS) {
      to = k + 1;
      break;
    }
  }
  return [from, to];
}

/**
 * One record from each of WINDOWS even stretches of the test rows: the stretch's most distinctive row with
 * RECORD_RARE_FIELDS rare values that is no training row. Taking the stretch's first row instead missed tables
 * where few rows are that distinctive (randhie: 71 of 4038, and its test rows are shuffled, so only records find
 * its source table).
 */
function recordWindows(test: CsvTable, answers: CsvTable, train: CsvTable | undefined): string[][] {
  const cols = test.header.map((_, i) => i).filter((i) => test.header[i] !== 'id');
  if (cols.length > MAX_RECORD_FIELDS) return [];
  const answerCols = answers.header.map((_, i) => i).filter((i) => answers.header[i] !== 'id');
  const bits = fieldBits(test, cols);
  // Matched in any column order, a record's values count as rare only if they are rare in the whole table too:
  // pixel intensities 0-16 are rare in some columns but occur anywhere (digits' records matched an SQLite file).
  const pooled = new Map<string, number>();
  for (const r of test.rows) for (const c of cols) pooled.set(r[c], (pooled.get(r[c]) ?? 0) + 1);
  const rareFields = (r: number) => cols.filter((c, j) => bits[r][j] >= RARE_BITS && -Math.log2(pooled.get(test.rows[r][c])! / (test.rows.length * cols.length)) >= RARE_BITS).length;
  const key = (fields: string[]) => [...fields].sort().join('\u0000');
  const names = [...cols.map((c) => test.header[c]), ...answerCols.map((c) => answers.header[c])];
  const inTrain = train ? names.map((n) => train.header.indexOf(n)) : [];
  // A test record equal to a training row (duplicates happen) would be found in the public train.csv.
  const trainKeys = new Set(train && inTrain.every((i) => i >= 0) ? train.rows.map((r) => key(inTrain.map((i) => r[i]))) : []);
  const record = (r: number) => [...cols.map((c) => test.rows[r][c]), ...answerCols.map((c) => answers.rows[r][c])];
  const ss = starts(test.rows.length);
  const windows: string[][] = [];
  ss.forEach((s, i) => {
    let best = -1;
    let bestBits = -1;
    for (let r = s; r < (ss[i + 1] ?? test.rows.length); r++) {
      const total = bits[r].reduce((a, b) => a + b, 0);
      if (total <= bestBits || rareFields(r) < RECORD_RARE_FIELDS || trainKeys.has(key(record(r)))) continue;
      best = r;
      bestBits = total;
    }
    if (best >= 0) windows.push(record(best).filter((f) => !MISSING.has(f)));
  });
  return windows;
}
