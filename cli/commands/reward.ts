import { z } from 'zod';
import { ActionKind, computeReward, RewardInput } from '../../core/reward';

export const describe = "per-step reward: reward --input '{\"action_kind\":\"edit\",\"m_prev\":…,\"m_next\":…,\"m_init\":…,\"m_best\":…}'";

export async function run(argv: string[]): Promise<number> {
  const i = argv.indexOf('--input');
  const text = i >= 0 ? argv[i + 1] : undefined;
  if (text === undefined || argv.length !== 2) {
    console.error(`usage: mlagent reward --input '<json>'  (fields: action_kind=${ActionKind.options.join('|')}, m_prev, m_next, m_init, m_best, optional higher_is_better)`);
    return 2;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    console.error(`mlagent reward: --input is not valid JSON: ${(err as Error).message}`);
    return 2;
  }
  const parsed = RewardInput.safeParse(json);
  if (!parsed.success) {
    console.error(`mlagent reward: bad --input: ${z.prettifyError(parsed.error)}`);
    return 2;
  }
  console.log(JSON.stringify(computeReward(parsed.data)));
  return 0;
}
