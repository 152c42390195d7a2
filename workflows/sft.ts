import { proxyActivities } from '@temporalio/workflow';
import type * as modelActivities from '../activities/model';
import { MODEL_QUEUE } from '../core/queues';
import { SftInput, SftResult } from '../model/sft-params';
import { parseWorkflowInput } from './validate-input';

/**
 * Exploration-enriched SFT: one long `sftTrain` activity on the model worker. Its heartbeats carry the last
 * checkpoint, so when the worker dies the retry resumes there instead of starting over.
 */
export async function sft(raw: unknown): Promise<SftResult> {
  const input = parseWorkflowInput(SftInput, raw, 'sft');
  const { sftTrain } = proxyActivities<typeof modelActivities>({
    taskQueue: MODEL_QUEUE,
    startToCloseTimeout: '7 days',
    heartbeatTimeout: input.heartbeatTimeoutSeconds * 1000,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
  });
  return sftTrain(input);
}
