import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Sandbox } from '../../activities/sandbox';
import { NUMERICS_ENV } from '../../activities/sandbox/sandbox-config';
import { loadTask } from '../../activities/tasks/registry';
import { reproduces, runStarter } from '../../activities/tasks/validate';

// A worker whose own environment asks for other kernels and threads: none of it may reach the sandbox.
const WORKER_ENV = { OPENBLAS_CORETYPE: 'SKYLAKEX', NPY_DISABLE_CPU_FEATURES: '', ATEN_CPU_CAPABILITY: 'default', OPENBLAS_NUM_THREADS: '8' };
const saved: Record<string, string | undefined> = {};
before(() => {
  for (const [k, v] of Object.entries(WORKER_ENV)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
after(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const PROBE = `
import json, threadpoolctl
from numpy.core._multiarray_umath import __cpu_features__ as f
blas = [i for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'openblas']
print(json.dumps({'arch': blas[0]['architecture'], 'threads': blas[0]['num_threads'], 'avx512f': f['AVX512F']}))
`;

test('the sandbox runs the pinned BLAS kernel and numpy dispatch whatever the worker environment says', { timeout: 120_000 }, async () => {
  const sb = await Sandbox.create({ labels: { 'mlagent.test': 'numerics' } });
  try {
    const r = await sb.exec({ cmd: ['python3', '-c', PROBE], timeoutMs: 60_000 });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stderr, '', 'numpy accepts the pinned NPY_DISABLE_CPU_FEATURES without warnings');
    const probe = JSON.parse(r.stdout) as { arch: string; threads: number; avx512f: boolean };
    assert.equal(probe.arch.toUpperCase(), NUMERICS_ENV.OPENBLAS_CORETYPE);
    assert.equal(probe.threads, 1, 'one BLAS thread (the default sandbox has one CPU)');
    assert.equal(probe.avx512f, false, 'numpy dispatches no AVX-512 kernels');
  } finally {
    await sb.destroy();
  }
});

test('a BLAS-heavy starter reproduces its recorded m_init exactly under the foreign worker environment', { timeout: 300_000 }, async () => {
  // chicago's linear model scores 3.2131 (validation) under SkylakeX kernels and 3.2123 under Haswell ones.
  const run = await runStarter('chicago');
  assert.ok(run.score.ok, run.score.ok ? '' : `${run.score.error}\n${run.stderrTail}`);
  const m_init = loadTask('chicago').m_init;
  assert.ok(reproduces(run.score.metric, m_init), `score ${run.score.metric} vs m_init ${m_init}`);
});
