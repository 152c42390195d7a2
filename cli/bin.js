#!/usr/bin/env node
// `npx mlagent …`: runs the TypeScript CLI through tsx so no build step is needed.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const main = path.join(__dirname, 'main.ts');
const res = spawnSync(process.execPath, ['--import', 'tsx', main, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(res.status ?? 1);
