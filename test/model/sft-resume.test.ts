import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ArtifactStore } from '../../activities/artifact-store';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { SftResult, StepRecord } from '../../model/sft-params';
import { startLocalTemporal } from '../../temporal-config/local-server';
import { REPO } from './fixtures';
import { repoSftDataset, toJsonl } from './sft-dataset';

const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

/** The model worker as its own process, with its log lines streamed to `onLine`. */
function startModelWorker(env: TestWorkflowEnvironment, home: string, onLine: (l: string) => void): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'workers/model.ts')], {
    cwd: REPO,
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', MLAGENT_HOME: home },
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

test('kill -9 of the model worker during SFT: a new worker resumes from the last checkpoint, no step lost or repeated', async () => {
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
      // Heartbeats are throttled (to 80% of the heartbeat timeout), so kill once one carrying a checkpoint
      // has surely been sent: at least 3 s after the first checkpoint, between two checkpoints.
      let killedAt = 0;
      let firstCheckpointAt = 0;
      const first = startModelWorker(env, home, (line) => {
        const m = /step (\d+)\//.exec(line);
        if (!m || killedAt) return;
        const step = Number(m[1]);
        if (step === 4) firstCheckpointAt = Date.now();
        if (firstCheckpointAt && Date.now() - firstCheckpointAt > 3000 && step % 4 === 2) { killedAt = step; first.kill('SIGKILL'); }
      });
      const handle = await env.client.workflow.start('sft', {
        taskQueue: ORCHESTRATOR_QUEUE,
        workflowId: `sft-kill-${Date.now()}`,
        args: [{
          dataset, tokenizerVocabSize: 400, epochs: 8, batchSize: 8, seqLen: 96, lr: 3e-3, warmupSteps: 2, checkpointEvery: 4, heartbeatTimeoutSeconds: 3,
          modelConfig: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 128 },
        }],
      });
      await new Promise<void>((resolve) => first.on('exit', () => resolve()));
      assert.ok(killedAt > 4, 'the first worker was killed mid-run');
      let resumeLine = '';
      startModelWorker(env, home, (line) => { if (line.includes('resuming from')) resumeLine = line; });
      const res = (await handle.result()) as SftResult;
      const curve = (await store.getJson<{ steps: StepRecord[] }>(res.lossCurve)).steps;
      console.log(`killed at step ${killedAt}; ${resumeLine.trim()}; ${res.steps} steps in all`);
      assert.ok(res.resumedFromStep > 0 && res.resumedFromStep < killedAt && res.resumedFromStep % 4 === 0, `resumed from checkpoint step ${res.resumedFromStep}`);
      assert.deepEqual(curve.map((s) => s.step), Array.from({ length: res.steps }, (_, i) => i + 1), 'recorded steps are 1..N exactly once');
      assert.ok(curve.slice(0, res.resumedFromStep).every((s) => s.attempt === 1), 'steps up to the checkpoint come from the killed attempt');
      assert.ok(curve.slice(res.resumedFromStep).every((s) => s.attempt === 2), 'later steps come from the resumed attempt');
    });
  } finally {
    await env.teardown();
  }
});
