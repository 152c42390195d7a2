import type { WorkflowHandle } from '@temporalio/client';
import { failureMessage } from '../core/failure-message';

/**
 * Waits for a workflow's result while calling `poll` every `everyMs` (progress display). Returns the
 * result, or undefined after printing the failure's root cause and where to look.
 */
export async function followWorkflow<T>(p: { handle: WorkflowHandle; ui: string; everyMs?: number; poll: () => Promise<void> }): Promise<T | undefined> {
  const result = p.handle.result() as Promise<T>;
  let done = false;
  result.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, p.everyMs ?? 2000))]);
    await p.poll().catch(() => undefined);
  }
  try {
    return await result;
  } catch (err) {
    console.error(`${p.handle.workflowId} failed: ${failureMessage(err)}\n  see ${p.ui}`);
    return undefined;
  }
}
