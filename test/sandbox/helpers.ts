import { randomBytes } from 'node:crypto';
import { cleanupSandboxes, Sandbox } from '../../activities/sandbox';

/** Labels this test file's containers, so cleanup touches nothing of other runs on the same engine. */
export function testLabels(): Record<string, string> {
  return { 'mlagent.test': `sandbox-${process.pid}-${randomBytes(3).toString('hex')}` };
}

/** Creates sandboxes with the given labels and removes them all at the end. */
export function sandboxFactory(labels: Record<string, string>) {
  return {
    create: (p: Parameters<typeof Sandbox.create>[0] = {}) => Sandbox.create({ ...p, labels: { ...labels, ...p.labels } }),
    cleanup: () => cleanupSandboxes({ olderThanMs: 0, labels }),
  };
}
