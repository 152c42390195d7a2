import { ArtifactStore } from '../../activities/artifact-store';
import { evaluationText } from '../../core/evaluation-table';
import { devStatus, logFile } from '../dev-stack';
import { workflowUiUrl } from '../client';
import { writeReport } from '../report';
import { loadPipelineConfig, presetFile } from '../pipeline-config';
import { runTrain } from './train';

export const describe = 'run the embedded default pipeline on the local stack and print where to look';

export async function run(): Promise<number> {
  console.log('mlagent demo: local Temporal dev server + workers, Docker sandbox, the 9 real-data training tasks, small CPU model\n');
  const out = await runTrain({ input: loadPipelineConfig(presetFile('demo')), name: 'demo' });
  if (!out) return 1;
  const { collect, sft } = out.result;
  if (!collect || !sft) return 0; // stopped by signal before SFT: runTrain said so
  const store = new ArtifactStore();
  const report = await writeReport({ workflowId: out.workflowId, result: out.result });
  console.log(`
where to look:
  Temporal UI     ${workflowUiUrl({ namespace: 'mlagent', workflowId: out.workflowId })}
                  (each episode: one activity per agent action, a step table in its details)
  HTML report     ${report}
  states pool     ${store.pathOf(collect.statesPool)}  (${collect.counts.states} states)
  SFT dataset     ${store.pathOf(collect.sft)}  (${collect.counts.sftPairs} pairs; ShareGPT: ${store.pathOf(collect.sharegpt)})
  checkpoint      ${store.pathOf(sft.checkpoint)}  (SFT loss ${sft.finalLoss.toFixed(3)})`);
  if (out.result.evaluate) console.log(`\nheld-out evaluation (avg@K over completed episodes, Δ_r over the starter):\n${evaluationText(out.result.evaluate)}`);
  console.log('\nstack:');
  for (const s of await devStatus()) console.log(`  ${s.healthy ? 'ok  ' : 'DOWN'} ${s.name.padEnd(13)} ${s.detail}`);
  console.log(`\nlogs: ${logFile('<part>')}\nstop the stack with: npx mlagent dev down`);
  return 0;
}
