import type { ChildProcess } from 'node:child_process';
import { after, before } from 'node:test';
import { startModelWorkerProcess, startTestStack, type TestStack } from '../helpers/stack';
import { ppoFixture, type PpoFixture } from './fixture';

/** A PPO test file's stack: the fixture, a test stack and a model worker process, started before its tests and stopped after. */
export function usePpoStack(): { stack: TestStack; fixture: PpoFixture } {
  const ctx = {} as { stack: TestStack; fixture: PpoFixture; modelWorker?: ChildProcess };
  before(async () => {
    ctx.fixture = await ppoFixture();
    ctx.stack = await startTestStack();
    ctx.modelWorker = startModelWorkerProcess(ctx.stack);
  });
  after(async () => {
    ctx.modelWorker?.kill('SIGKILL');
    await ctx.stack?.stop();
  });
  return ctx;
}
