import { Context } from '@temporalio/activity';

/**
 * Named places where a crash test can freeze a worker: with `MLAGENT_PAUSE_AT=<point>` (comma-separated) in
 * the worker's environment, an activity reaching that point logs `paused at <point>` and stays there,
 * heartbeating its last details, until it is killed or cancelled. The test then kills the worker at a moment it
 * chose, instead of racing a timer against how fast the machine trains. Unset, this is a no-op.
 * Points: `runAction-call-<n>` (sandbox worker), `sft-step-<n>`, `ppo-update-<n>` (model worker: its n-th PPO update,
 * after the first gradient step).
 */
export async function pauseIfRequested(point: string, details?: unknown): Promise<void> {
  const wanted = (process.env.MLAGENT_PAUSE_AT ?? '').split(',').map((s) => s.trim());
  if (!wanted.includes(point)) return;
  const ctx = Context.current();
  console.log(`paused at ${point}`);
  for (;;) {
    ctx.heartbeat(details);
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
    await new Promise((r) => setTimeout(r, 200));
  }
}
