import { CancellationScope } from '@temporalio/workflow';
import { closeWorkspace, openWorkspace, type Workspace } from './sandbox-host';

/**
 * Workspaces a rollout opens ahead of, or beside, the work that uses them (PPO): each is opened uncancellably and
 * closed once it is open, so a rollout that ends early (a time limit, a failure, a cancellation) waits for the
 * containers still being created and removes them too.
 */

/** The promise, its rejection marked as handled: it is awaited later, and an unhandled one fails the workflow task. */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Opens a workspace; not cancellable, so a container being created when its caller is cancelled is still closed. */
export function openUncancellable(p: Parameters<typeof openWorkspace>[0]): Promise<Workspace> {
  return handled(CancellationScope.nonCancellable(async () => (await openWorkspace(p)).ws));
}

/** Closes a workspace once it is open (one that failed to open needs nothing). */
export function closeOnceOpen(ws: Promise<Workspace>): Promise<void> {
  return handled(ws.then(closeWorkspace, () => undefined));
}
