import type * as modelActivities from '../activities/model';
import { SftInput, SftResult } from '../model/sft-params';
import { proxyModelActivities } from './model-worker-lost';
import { parseWorkflowInput } from './validate-input';

/**
 * Exploration-enriched SFT: one long `sftTrain` activity on the model worker. Its heartbeats carry the last
 * checkpoint, so when the worker dies the retry resumes there instead of starting over; an attempt no model
 * worker picks up fails the run (schedule-to-start) instead of waiting for one for days.
 */
export async function sft(raw: unknown): Promise<SftResult> {
  const input = parseWorkflowInput(SftInput, raw, 'sft');
  const { sftTrain } = proxyModelActivities<typeof modelActivities>({
    options: {
      startToCloseTimeout: '7 days',
      heartbeatTimeout: input.heartbeatTimeoutSeconds * 1000,
      retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
    },
    lostAfterSec: input.modelWorkerLostAfterSec,
  });
  return sftTrain(input);
}
