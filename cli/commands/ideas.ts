import { z } from 'zod';
import { createIdeaActivities } from '../../activities/ideas/activities';
import { GenerateIdeasInput } from '../../core/ideas';

export const describe = 'idea generation for one task, run locally (no Temporal): ideas --task NAME [--k 10] [--seed 1] [--json]';

const Flags = z
  .object({ task: z.string(), k: z.coerce.number(), seed: z.coerce.number(), json: z.literal(true) })
  .partial()
  .strict();

/** Parses `--name value` pairs and the bare `--json` switch into an object (unknown flags are reported by zod). */
function parseFlags(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.replace(/^--/, '');
    if (!argv[i]!.startsWith('--')) throw new Error(`unexpected argument '${argv[i]}'`);
    if (name === 'json') out[name] = true;
    else if (argv[i + 1] === undefined) throw new Error(`--${name} needs a value`);
    else out[name] = argv[++i]!;
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const usage = 'usage: mlagent ideas --task NAME [--k 10] [--seed 1] [--json]';
  let input;
  let json;
  try {
    const flags = Flags.parse(parseFlags(argv));
    input = GenerateIdeasInput.parse({ task: flags.task, k: flags.k, seed: flags.seed });
    json = flags.json === true;
  } catch (err) {
    console.error(`${usage}\nmlagent ideas: ${err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message}`);
    return 2;
  }
  const act = createIdeaActivities();
  const proposed = await act.proposeIdeas(input);
  const embedded = await act.embedIdeas({ candidates: proposed.candidates });
  const selected = await act.selectDiverse({ ...input, source: proposed.source, candidates: proposed.candidates, embeddings: embedded.embeddings, usage: [...proposed.usage, ...embedded.usage] });
  if (json) {
    console.log(JSON.stringify({ task: input.task, source: proposed.source, embedder: embedded.embedder, candidateCount: proposed.count, ...selected }, null, 2));
    return 0;
  }
  if (proposed.source === 'bank') console.log('offline: no LLM configured (MLAGENT_LLM_BASE_URL, MLAGENT_LLM_MODEL); ideas come from the built-in idea bank');
  console.log(`${input.task}: ${selected.chosen.length} most diverse of ${proposed.count} candidates (embedder ${embedded.embedder})`);
  console.log(`mean pairwise cosine distance: chosen ${selected.diversity.chosen.toFixed(3)}, all candidates ${selected.diversity.allCandidates.toFixed(3)}`);
  for (const [i, idea] of selected.chosen.entries()) console.log(`${String(i + 1).padStart(2)}. [${idea.id}] ${idea.title}\n    ${idea.text}`);
  console.log(`idea set artifact: ${selected.ideaSet.sha256}`);
  return 0;
}
