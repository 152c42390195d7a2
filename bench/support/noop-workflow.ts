import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10s' });

/** Times N sequential no-op activities (workflow time advances with each workflow task: one round trip each). */
export async function noopRoundTrips(n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = Date.now();
    await noop();
    ms.push(Date.now() - t);
  }
  return ms;
}
