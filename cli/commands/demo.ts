import { devStatus, logFile } from '../dev-stack';
import { run as runEpisode } from './episode';

export const describe = 'run the embedded default end to end on the local stack and print where to look';

/** The demo task: a real training task whose starter runs in a few seconds. */
const DEMO_TASK = 'co2';

export async function run(): Promise<number> {
  console.log('mlagent demo: local Temporal dev server + workers, Docker sandbox, real task data\n');
  const code = await runEpisode(['--task', DEMO_TASK]);
  console.log('\nstack:');
  for (const s of await devStatus()) console.log(`  ${s.healthy ? 'ok  ' : 'DOWN'} ${s.name.padEnd(13)} ${s.detail}`);
  console.log(`\nlogs: ${logFile('<part>')}\nstop the stack with: npx mlagent dev down`);
  return code;
}
