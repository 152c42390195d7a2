import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { prepareTask } from '../../activities/tasks/prepare';
import { HOST_PYTHON, runHost } from '../../activities/tasks/host-run';
import { findHiddenContent, type HiddenFinding } from '../../activities/tasks/validate';
import { sandboxFactory, testLabels } from '../sandbox/helpers';

const sandboxes = sandboxFactory(testLabels());

describe('held-out answers are not reachable in the sandbox', () => {
  after(async () => {
    await sandboxes.cleanup();
  });

  test('the bundled data sets tasks are cut from do not load in the sandbox', { timeout: 120_000 }, async () => {
    const sb = await sandboxes.create();
    const loaders = {
      load_digits: 'from sklearn.datasets import load_digits as f',
      load_wine: 'from sklearn.datasets import load_wine as f',
      co2: 'from statsmodels.datasets.co2 import load as f',
      randhie: 'from statsmodels.datasets.randhie import load as f',
    };
    for (const [name, imp] of Object.entries(loaders)) {
      const r = await sb.exec({ cmd: ['python3', '-c', `${imp}\nf()`], timeoutMs: 60_000 });
      assert.notEqual(r.exitCode, 0, `${name} loaded in the sandbox`);
      assert.match(r.stderr, /FileNotFoundError/, `${name}: ${r.stderr.slice(-300)}`);
    }
  });

  // One scan of the image for both tasks, with copies planted in the workspace the way an agent might find them.
  let found: HiddenFinding[] = [];
  before(async () => {
    const digits = await prepareTask('digits');
    const randhie = await prepareTask('randhie');
    const leaky = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-leaky-'));
    try {
      fs.cpSync(digits.publicDir, leaky, { recursive: true });
      const answers = fs.readFileSync(path.join(digits.hiddenDir, 'answers.csv'));
      fs.writeFileSync(path.join(leaky, 'data', 'renamed.bin'), answers);
      // Another format: compressed, and re-serialised as one label per line without ids.
      const labels = answers.toString().trim().split('\n').slice(1).map((l) => l.split(',')[1]).join('\n');
      fs.writeFileSync(path.join(leaky, 'data', 'cache.gz'), zlib.gzipSync(labels));
      // randhie's test rows are a random sample, so its source table holds them in another order: as statsmodels
      // ships it (CSV), and re-serialised with rows shuffled and columns reversed (gzipped JSON records).
      fs.mkdirSync(path.join(leaky, 'randhie'));
      await runHost({ cmd: HOST_PYTHON, args: ['-c', PLANT_RANDHIE, path.join(leaky, 'randhie')], cwd: leaky, timeoutMs: 60_000 });
      const sb = await sandboxes.create({ workspaceDir: leaky });
      found = await findHiddenContent(sb, [
        { task: 'digits', ...digits },
        { task: 'randhie', ...randhie },
      ]);
    } finally {
      fs.rmSync(leaky, { recursive: true, force: true });
    }
  }, { timeout: 10 * 60_000 });

  test('the content scan finds digits answers planted gzipped and byte-identical', () => {
    assert.deepEqual(
      found.filter((f) => f.task === 'digits').map((f) => [f.path, f.kind]).sort(),
      [
        ['/workspace/data/cache.gz', 'content'],
        ['/workspace/data/renamed.bin', 'content'],
        ['/workspace/data/renamed.bin', 'file'],
      ],
      JSON.stringify(found),
    );
  });

  test("the content scan finds randhie's source table as shipped and shuffled into gzipped JSON, and nothing else", () => {
    assert.deepEqual(
      found.filter((f) => f.task === 'randhie').map((f) => [f.path, f.kind]).sort(),
      [
        ['/workspace/randhie/randhie.csv', 'content'],
        ['/workspace/randhie/shuffled.json.gz', 'content'],
      ],
      JSON.stringify(found),
    );
  });
});

/** Copies statsmodels' randhie.csv into argv[1] and writes it again as shuffled, column-reversed JSON records. */
const PLANT_RANDHIE = `
import csv, gzip, json, os, random, shutil, sys
import statsmodels.datasets.randhie as r
src = os.path.join(os.path.dirname(r.__file__), "randhie.csv")
shutil.copy(src, os.path.join(sys.argv[1], "randhie.csv"))
rows = list(csv.DictReader(open(src)))
random.Random(7).shuffle(rows)
with gzip.open(os.path.join(sys.argv[1], "shuffled.json.gz"), "wt") as f:
    json.dump([dict(reversed(list(row.items()))) for row in rows], f)
`;
