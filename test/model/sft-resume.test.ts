import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ArtifactStore } from '../../activities/artifact-store';
import { failureMessage } from '../../core/failure-message';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { SftHeartbeat, SftResult, StepRecord } from '../../model/sft-params';
import { startLocalTemporal } from '../../temporal-config/local-server';
import { REPO } from './fixtures';
import { repoSftDataset, toJsonl } from './sft-dataset';

const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

/** The model worker as its own process, with its log lines streamed to `onLine`. */
function startModelWorker(env: TestWorkflowEnvironment, home: string, onLine: (l: string) => void, extraEnv: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'workers/model.ts')], {
    cwd: REPO,
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', MLAGENT_HOME: home, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    lines.forEach(onLine);
  });
  child.stderr!.resume();
  return child;
}

test('kill -9 of the model worker during SFT: a new worker resumes from the last checkpoint, no step lost or repeated', { timeout: 600_000 }, async () => {
  const env = await startLocalTemporal();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-sft-kill-'));
  process.env.MLAGENT_HOME = home;
  const store = new ArtifactStore();
  const dataset = await store.put(toJsonl(repoSftDataset()), 'sft-dataset');
  const orchestrator = await Worker.create({
    connection: env.nativeConnection, namespace: env.namespace, taskQueue: ORCHESTRATOR_QUEUE, workflowsPath: require.resolve('../../workflows/sft'),
  });
  try {
    await orchestrator.runUntil(async () => {
      const bad = env.client.workflow.execute('sft', { taskQueue: ORCHESTRATOR_QUEUE, workflowId: `sft-bad-${Date.now()}`, args: [{ dataset: { sha256: 'xyz', size: 1, kind: 'sft-dataset' }, epochs: 0 }] });
      await assert.rejects(bad, (err: Error) => /invalid sft input: dataset\.sha256: .*epochs: /.test(String((err.cause as Error | undefined)?.message)));
      // The first worker freezes at step 6 (MLAGENT_PAUSE_AT), after the step-4 checkpoint; it is killed once the
      // server holds a heartbeat carrying that checkpoint, whatever the machine's speed.
      const first = startModelWorker(env, home, () => undefined, { MLAGENT_PAUSE_AT: 'sft-step-6' });
      const handle = await env.client.workflow.start('sft', {
        taskQueue: ORCHESTRATOR_QUEUE,
        workflowId: `sft-kill-${Date.now()}`,
        args: [{
          dataset, tokenizerVocabSize: 400, epochs: 8, batchSize: 8, seqLen: 1024, lr: 3e-3, warmupSteps: 2, checkpointEvery: 4, heartbeatTimeoutSeconds: 3,
          modelConfig: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 1024 },
        }],
      });
      for (;;) {
        const described = await handle.describe();
        // A run that ended (e.g. rejected its data) never reaches the pause: report it instead of waiting forever.
        if (described.status.name !== 'RUNNING') assert.fail(`the SFT run ended (${described.status.name}) before the pause: ${await handle.result().then(() => 'completed', (e: Error) => failureMessage(e))}`);
        const pending = described.raw.pendingActivities ?? [];
        const details = pending.flatMap((a) => a.heartbeatDetails?.payloads ?? []).map((p) => SftHeartbeat.safeParse(defaultPayloadConverter.fromPayload(p)));
        if (details.some((d) => d.success && d.data.step === 6 && d.data.checkpoint)) break;
        assert.equal(first.exitCode, null, 'the first worker is still running');
        await new Promise((r) => setTimeout(r, 200));
      }
      const exited = new Promise<void>((resolve) => first.on('exit', () => resolve()));
      first.kill('SIGKILL');
      await exited;
      const killedAt = 6;
      let resumeLine = '';
      startModelWorker(env, home, (line) => { if (line.includes('resuming from')) resumeLine = line; });
      const res = (await handle.result()) as SftResult;
      const curve = (await store.getJson<{ steps: StepRecord[] }>(res.lossCurve)).steps;
      console.log(`killed at step ${killedAt}; ${resumeLine.trim()}; ${res.steps} steps in all`);
      assert.equal(res.resumedFromStep, 4, 'resumed from the step-4 checkpoint the killed worker heartbeated');
      assert.deepEqual(curve.map((s) => s.step), Array.from({ length: res.steps }, (_, i) => i + 1), 'recorded steps are 1..N exactly once');
      assert.ok(curve.slice(0, res.resumedFromStep).every((s) => s.attempt === 1), 'steps up to the checkpoint come from the killed attempt');
      assert.ok(curve.slice(res.resumedFromStep).every((s) => s.attempt === 2), 'later steps come from the resumed attempt');
    });
  } finally {
    await env.teardown();
  }
});
