import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { ArtifactStore } from '../../activities/artifact-store';
import type { ArtifactRef } from '../../core/artifact-ref';
import { packDirectory } from '../../activities/sandbox/workspace-tar';
import { packFiles } from '../../model/checkpoint';
import { saveModelRecord } from '../../model/model-registry';
import { startLocalTemporal } from '../../temporal-config/local-server';

const REPO = path.join(__dirname, '../..');
const DAY = 86_400_000;

/** A real workspace snapshot tar of a directory holding one file. */
async function snapshot(store: ArtifactStore, text: string): Promise<ArtifactRef> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-gc-ws-'));
  fs.writeFileSync(path.join(dir, 'train.py'), text);
  return store.put(await packDirectory(dir), 'workspace-snapshot');
}

/** A checkpoint-shaped tar (config + trainer state / adapter config JSON, a small weights file). */
async function checkpoint(store: ArtifactStore, json: Record<string, unknown>): Promise<ArtifactRef> {
  const files = new Map([
    ['config.json', Buffer.from(JSON.stringify(json))],
    ['model.safetensors', Buffer.alloc(4096, 7)],
  ]);
  return store.put(await packFiles(files), 'checkpoint');
}

function age(store: ArtifactStore, ref: ArtifactRef, days: number): void {
  const t = new Date(Date.now() - days * DAY);
  fs.utimesSync(store.pathOf(ref), t, t);
}

test('mlagent gc removes only old tars no root references: registry, finished runs, records, kept tars, running runs', { timeout: 300_000 }, async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-gc-'));
  process.env.MLAGENT_HOME = home;
  const store = new ArtifactStore();
  const env = await startLocalTemporal();
  const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace, taskQueue: 'gc-test', workflowsPath: require.resolve('./fixtures/gc-workflows') });
  try {
    await worker.runUntil(async () => {
      const inTrajectory = await snapshot(store, 'print(1)\n');
      const orphanSnapshot = await snapshot(store, 'print(2)\n');
      const registered = await checkpoint(store, { model: 'registered' });
      const loraBase = await checkpoint(store, { model: 'base of an adapter' });
      const finished = await checkpoint(store, { base_model_name_or_path: `artifact:${loraBase.sha256}` });
      const intermediate = await checkpoint(store, { step: 4 });
      const trajectory = await store.put(JSON.stringify({ steps: [{ snapshot: inTrajectory }] }) + '\n', 'trajectory');
      for (const r of [inTrajectory, orphanSnapshot, registered, loraBase, finished, intermediate, trajectory]) age(store, r, 30);
      await saveModelRecord({ name: 'gc-registered', checkpoint: registered, source: {}, importedAt: new Date().toISOString(), parameters: 1 });
      await env.client.workflow.execute('gcFinishedRun', { taskQueue: 'gc-test', workflowId: 'gc-finished', args: [{ sft: { checkpoint: finished } }] });
      const running = await env.client.workflow.start('gcRunningRun', { taskQueue: 'gc-test', workflowId: 'gc-running' });
      const afterStart = await snapshot(store, 'print(3)\n'); // written during the running run, referenced nowhere yet

      const gc = (...args: string[]) =>
        promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(REPO, 'cli/main.ts'), 'gc', ...args], {
          cwd: REPO,
          env: { ...process.env, MLAGENT_HOME: home, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default' },
        });
      const listed = (out: string) => [...out.matchAll(/remove ([0-9a-f]{64})/g)].map((m) => m[1]).sort();

      const dry = await gc('--dry-run', '--older-than', '7');
      assert.deepEqual(listed(dry.stdout), [orphanSnapshot.sha256, intermediate.sha256].sort(), dry.stdout);
      assert.match(dry.stdout, /dry run: 2 objects/);
      assert.ok(fs.existsSync(store.pathOf(orphanSnapshot)), 'a dry run removes nothing');

      // Age 0: everything is old enough, but the running run protects what was written since it started.
      const zero = await gc('--dry-run', '--older-than', '0');
      assert.deepEqual(listed(zero.stdout), [orphanSnapshot.sha256, intermediate.sha256].sort(), zero.stdout);
      await running.terminate('test done');
      const afterRun = await gc('--dry-run', '--older-than', '0');
      assert.deepEqual(listed(afterRun.stdout), [orphanSnapshot.sha256, intermediate.sha256, afterStart.sha256].sort(), afterRun.stdout);

      const real = await gc('--older-than', '7');
      assert.match(real.stdout, /removed 2 objects/);
      for (const r of [orphanSnapshot, intermediate]) assert.ok(!fs.existsSync(store.pathOf(r)), `${r.sha256} removed`);
      for (const r of [inTrajectory, registered, loraBase, finished, trajectory, afterStart]) assert.ok((await store.get(r)).length === r.size, `${r.sha256} kept intact`);
    });
  } finally {
    await env.teardown();
  }
});
