#!/usr/bin/env node
// `npx mlagent …`: runs the TypeScript CLI through tsx so no build step is needed.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const main = path.join(__dirname, 'main.ts');

// A training pass allocates and frees hundreds of multi-MB tensors; glibc's malloc maps the large ones afresh each
// time (page faults) and fragments, tcmalloc reuses them: a 30-layer 2048-token pass of the 135M model peaked at
// 3.1 GB instead of 3.7 (PyTorch: 3.5 instead of 4.4), as PyTorch's CPU tuning guide advises. Debian's
// libtcmalloc-minimal4 (make setup); the model worker and the benchmark's PyTorch references inherit it.
// MLAGENT_MALLOC=system keeps glibc's.
const TCMALLOC = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4';
const env = { ...process.env };
if (env.MLAGENT_MALLOC !== 'system' && !env.LD_PRELOAD && fs.existsSync(TCMALLOC)) {
  env.LD_PRELOAD = TCMALLOC;
  // tcmalloc reports every allocation over 1 GB on stderr by default
  env.TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD ??= String(2 ** 40);
}
const res = spawnSync(process.execPath, ['--import', 'tsx', main, ...process.argv.slice(2)], { stdio: 'inherit', env });
process.exit(res.status ?? 1);
