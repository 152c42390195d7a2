import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { prepareTask } from '../../activities/tasks/prepare';
import { findHiddenContent } from '../../activities/tasks/validate';
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

  test('the content scan finds digits answers planted gzipped and byte-identical', { timeout: 10 * 60_000 }, async () => {
    const { publicDir, hiddenDir } = await prepareTask('digits');
    const leaky = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-leaky-'));
    fs.cpSync(publicDir, leaky, { recursive: true });
    const answers = fs.readFileSync(path.join(hiddenDir, 'answers.csv'));
    fs.writeFileSync(path.join(leaky, 'data', 'renamed.bin'), answers);
    // Another format: compressed, and re-serialised as one label per line without ids.
    const labels = answers.toString().trim().split('\n').slice(1).map((l) => l.split(',')[1]).join('\n');
    fs.writeFileSync(path.join(leaky, 'data', 'cache.gz'), zlib.gzipSync(labels));
    const sb = await sandboxes.create({ workspaceDir: leaky });
    fs.rmSync(leaky, { recursive: true, force: true });
    const found = await findHiddenContent(sb, [{ task: 'digits', publicDir, hiddenDir }]);
    assert.deepEqual(
      found.map((f) => [f.path, f.kind]).sort(),
      [
        ['/workspace/data/cache.gz', 'content'],
        ['/workspace/data/renamed.bin', 'content'],
        ['/workspace/data/renamed.bin', 'file'],
      ],
      JSON.stringify(found),
    );
  });
});
