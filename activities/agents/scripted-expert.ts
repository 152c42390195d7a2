import type { Action } from '../../core/actions';
import type { HistoryEntry, SeedIdea } from '../../core/episode-schema';
import { formatResponse } from '../../core/parse-response';
import { seededRandom, shuffled } from '../../core/rng';

interface Step {
  thought: string;
  action: Action;
}

/** A step the expert takes and, once taken, the observation it got back. */
type Expert = Generator<Step, void, string>;

/**
 * The offline expert: works the task like a careful engineer. Looks at the files, runs the starter,
 * tries each injected idea with exact edits, reads the validation score the script prints, undoes
 * ideas that do not help, re-applies the best one and answers. Variation (what it inspects, the order
 * of ideas, its wording) comes from `seed`; every metric it sees is a real run's.
 *
 * Stateless across activity calls: the next action is found by replaying the plan over the history.
 */
export function scriptedExpertResponse(p: { step: number; history: HistoryEntry[]; seedIdeas: SeedIdea[]; script: string; higherIsBetter: boolean; seed: number }): string {
  const gen = plan(p);
  let next = gen.next();
  for (let i = 0; i < p.step && !next.done; i++) next = gen.next(p.history[i]?.observation ?? '');
  const step: Step = next.done
    ? { thought: 'Nothing left to try.', action: { name: 'Final Answer', input: { final_answer: 'Done.' } } }
    : next.value;
  return formatResponse(step);
}

function* plan(p: { seedIdeas: SeedIdea[]; script: string; higherIsBetter: boolean; seed: number }): Expert {
  const rng = seededRandom(p.seed);
  const script = p.script;
  const ideas = shuffled(
    p.seedIdeas.filter((i) => i.edits?.some((e) => e.script_name === script)),
    rng,
  );
  const listing = yield { thought: 'Start by looking at what the workspace holds.', action: { name: 'List Files', input: { dir_path: '.' } } };
  // With three ideas the budget is tight (15 steps), so one look at the code is enough.
  if (ideas.length < 3 && rng() < 0.5) {
    yield {
      thought: 'Check the training data: column types and missing values decide which ideas fit.',
      action: { name: 'Understand File', input: { file_name: trainingData(listing), things_to_look_for: 'target column, feature types, missing values' } },
    };
  }
  yield rng() < 0.5
    ? { thought: `Read the starter ${script} to see the pipeline.`, action: { name: 'Read File', input: { file_name: script } } }
    : { thought: `Inspect the top of ${script}: loading, features and the model.`, action: { name: 'Inspect Script Lines', input: { script_name: script, start_line_number: 1, end_line_number: 60 } } };
  const baselineOut = yield { thought: 'Run the baseline to get its validation score.', action: { name: 'Execute Script', input: { script_name: script } } };
  const better = (a: number, b: number) => (p.higherIsBetter ? a > b : a < b);
  let best = { score: validationScore(baselineOut) ?? (p.higherIsBetter ? -Infinity : Infinity), idea: undefined as SeedIdea | undefined };
  let applied: SeedIdea | undefined;

  for (const [k, idea] of ideas.entries()) {
    const edits = idea.edits!.find((e) => e.script_name === script)!.edits;
    const editOut = yield { thought: `Try idea ${k + 1}: ${idea.text}`, action: { name: 'Edit Script', input: { script_name: script, edits } } };
    if (editOut.startsWith('Error')) continue;
    applied = idea;
    const runOut = yield { thought: 'Run the edited script and compare with the best so far.', action: { name: 'Execute Script', input: { script_name: script } } };
    const score = validationScore(runOut);
    const isLast = k === ideas.length - 1;
    if (score !== undefined && better(score, best.score)) {
      best = { score, idea };
      if (isLast) break;
    }
    const why = score === undefined ? 'the run gave no validation score' : better(score, best.score) ? 'a later idea may do better' : `validation ${score} is not better than ${best.score}`;
    yield { thought: `Revert this idea: ${why}.`, action: { name: 'Undo Edit Script', input: { script_name: script } } };
    applied = undefined;
  }

  if (best.idea && applied !== best.idea) {
    const edits = best.idea.edits!.find((e) => e.script_name === script)!.edits;
    yield { thought: `Re-apply the best idea (validation ${best.score}): ${best.idea.text}`, action: { name: 'Edit Script', input: { script_name: script, edits } } };
    yield { thought: 'Run it once more so submission.csv comes from the best version.', action: { name: 'Execute Script', input: { script_name: script } } };
  }
  const summary = best.idea ? `Kept: ${best.idea.text} (validation ${best.score}).` : 'No idea beat the baseline; kept the starter.';
  yield { thought: 'The best version is in place and its submission is written.', action: { name: 'Final Answer', input: { final_answer: summary } } };
}

/** The training table in a `List Files` observation (imported tasks name their files freely); data/train.csv by default. */
function trainingData(listing: string): string {
  const csvs = listing.split('\n').map((l) => l.split(' (')[0]!.trim()).filter((f) => f.endsWith('.csv'));
  return csvs.find((f) => /train/i.test(f)) ?? csvs[0] ?? 'data/train.csv';
}

/** The last "validation <metric>: <number>" line a starter prints. */
export function validationScore(output: string): number | undefined {
  const matches = [...output.matchAll(/validation[^:\n]*:\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/gi)];
  const v = matches.length ? Number(matches[matches.length - 1][1]) : undefined;
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}
