import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../temporal-config/local-server';

const BIN = path.join(__dirname, '../../cli/bin.js');

/** The parts `mlagent dev up` runs, by their pid and log file names under MLAGENT_HOME/dev. */
export type DevPart = 'temporal' | 'orchestrator' | 'sandbox' | 'model';

/**
 * A dev stack (`mlagent dev up`: Temporal dev server on SQLite and the three workers) of a chaos test's own: its own
 * MLAGENT_HOME, ports and sandbox host id, so it never touches another stack. Parts die by kill -9 and come back
 * with `up()`, which starts whatever is not running.
 */
export interface ChaosStack {
  home: string;
  /** The environment of the stack's processes (`up()` adds MLAGENT_PAUSE_AT). */
  env: NodeJS.ProcessEnv;
  address: string;
  up(pauseAt?: string): void;
  /** kill -9 of a part's process group; returns once the process is gone (so `up()` sees it stopped). */
  kill(part: DevPart): Promise<void>;
  /** Waits until the part's log, from character `after` on, holds `text`. */
  waitLog(p: { part: DevPart; text: string; after?: number }): Promise<void>;
  log(part: DevPart): string;
  /** A fresh client (the server may have been restarted since the last one). */
  client(): Promise<Client>;
  /** The workflow's result, waiting through a server restart; a failed workflow throws. */
  result<T>(workflowId: string): Promise<T>;
  down(): void;
}

export async function startChaosStack(name: string): Promise<ChaosStack> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `mlagent-${name}-`));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, MLAGENT_HOME: home, MLAGENT_DEV_PORT: String(port), MLAGENT_DEV_UI_PORT: String(await freePort()), MLAGENT_SANDBOX_HOST_ID: `${name}-${process.pid}` };
  delete env.TEMPORAL_ADDRESS;
  delete env.MLAGENT_PAUSE_AT;
  const address = `127.0.0.1:${port}`;
  const log = (part: DevPart) => fs.readFileSync(path.join(home, 'dev', `${part}.log`), 'utf8');
  const client = async () => new Client({ connection: await Connection.connect({ address }), namespace: 'mlagent' });
  return {
    home,
    env,
    address,
    up(pauseAt) {
      const r = spawnSync(process.execPath, [BIN, 'dev', 'up'], { env: { ...env, ...(pauseAt && { MLAGENT_PAUSE_AT: pauseAt }) }, encoding: 'utf8', timeout: 240_000 });
      assert.equal(r.status, 0, `dev up: ${r.stdout}${r.stderr}`);
    },
    async kill(part) {
      const pid = Number(fs.readFileSync(path.join(home, 'dev', `${part}.pid`), 'utf8'));
      process.kill(-pid, 'SIGKILL');
      const alive = () => {
        try {
          return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
        } catch {
          return false;
        }
      };
      for (let i = 0; alive(); i++) {
        assert.ok(i < 600, `${part} (pid ${pid}) died after SIGKILL`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async waitLog({ part, text, after = 0 }) {
      for (let i = 0; !log(part).slice(after).includes(text); i++) {
        assert.ok(i < 3000, `the ${part} log shows "${text}" within 10 minutes`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    log,
    client,
    async result<T>(workflowId: string): Promise<T> {
      for (let i = 0; ; i++) {
        try {
          return (await (await client()).workflow.getHandle(workflowId).result()) as T;
        } catch (err) {
          // the server may still be coming back; a failed workflow is a real failure
          if (i > 60 || (err as Error).name === 'WorkflowFailedError') throw err;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    },
    down() {
      spawnSync(process.execPath, [BIN, 'dev', 'down'], { env, encoding: 'utf8', timeout: 120_000 });
    },
  };
}
