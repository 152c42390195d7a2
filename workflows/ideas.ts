import { proxyActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { IdeaActivities } from '../activities/ideas/activities';
import type { ArtifactRef } from '../core/artifact-ref';
import { GenerateIdeasInput, type Idea, type IdeaSet } from '../core/ideas';
import { MLAGENT_STAGE, MLAGENT_TASK } from '../core/search-attributes';
import { parseWorkflowInput } from './validate-input';

// LLM calls inside proposeIdeas/embedIdeas can be slow; transient failures are retried here, not in the client.
const ideas = proxyActivities<IdeaActivities>({
  startToCloseTimeout: '15 minutes',
  retry: { maximumAttempts: 5, initialInterval: '2 seconds' },
});

export interface GenerateIdeasResult {
  task: string;
  source: 'bank' | 'llm';
  embedder: string;
  candidateCount: number;
  chosen: Idea[];
  diversity: IdeaSet['diversity'];
  ideaSet: ArtifactRef;
}

/**
 * ML-Agent stage 1 for one task: propose ≥ minCandidates ideas, embed them, keep the k most diverse
 * (farthest-point selection, deterministic for the seed) and store the set as an `idea-set` artifact.
 */
export async function generateIdeas(rawInput: GenerateIdeasInput): Promise<GenerateIdeasResult> {
  const input = parseWorkflowInput(GenerateIdeasInput, rawInput, 'generateIdeas');
  upsertSearchAttributes([
    { key: MLAGENT_TASK, value: input.task },
    { key: MLAGENT_STAGE, value: 'ideas' },
  ]);
  setCurrentDetails(`**${input.task}**: proposing ≥ ${input.minCandidates} candidate ideas…`);
  const proposed = await ideas.proposeIdeas({ task: input.task, seed: input.seed, minCandidates: input.minCandidates });
  const origin = proposed.source === 'llm' ? 'the LLM' : 'the built-in idea bank (no LLM configured)';
  setCurrentDetails(`**${input.task}**: ${proposed.count} candidates from ${origin}; embedding…`);
  const embedded = await ideas.embedIdeas({ candidates: proposed.candidates });
  const selected = await ideas.selectDiverse({
    task: input.task,
    k: input.k,
    seed: input.seed,
    source: proposed.source,
    candidates: proposed.candidates,
    embeddings: embedded.embeddings,
    usage: [...proposed.usage, ...embedded.usage],
  });
  setCurrentDetails(
    [
      `**${input.task}**: ${selected.chosen.length} most diverse of ${proposed.count} ideas from ${origin}, embedded with ${embedded.embedder}`,
      `(mean pairwise cosine distance ${selected.diversity.chosen.toFixed(3)} vs ${selected.diversity.allCandidates.toFixed(3)} over all candidates)`,
      '',
      ...selected.chosen.map((idea, i) => `${i + 1}. **${idea.title}** — ${idea.text}`),
      '',
      `idea set: \`${selected.ideaSet.sha256}\``,
    ].join('\n'),
  );
  return {
    task: input.task,
    source: proposed.source,
    embedder: embedded.embedder,
    candidateCount: proposed.count,
    chosen: selected.chosen,
    diversity: selected.diversity,
    ideaSet: selected.ideaSet,
  };
}
