import { connectClient } from '../../cli/client';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { ppoFixture } from '../ppo/fixture';

/**
 * Runs one PPO iteration on the test fixture (one co2 state, the tiny List-Files policy) on the stack the CLI
 * connects to (`mlagent dev up` unless TEMPORAL_ADDRESS says otherwise) and prints `recorded ppo <workflow id>`;
 * scripts/record-histories.sh exports its history for the replay test. The fixture's artifacts go to MLAGENT_HOME.
 */
async function main(): Promise<void> {
  const fixture = await ppoFixture();
  const { client, close } = await connectClient();
  try {
    const workflowId = `ppo-record-${Date.now()}`;
    await client.workflow.execute('ppo', { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [fixture.input({ iterations: 1, statesPerIteration: 1 })] });
    console.log(`recorded ppo ${workflowId}`);
  } finally {
    await close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
