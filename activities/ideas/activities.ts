import fs from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/activity';
import type { ArtifactRef } from '../../core/artifact-ref';
import { farthestPointSelection, meanPairwiseDistance } from '../../core/diversity';
import { type Idea, IdeaEmbeddings, IdeaSet, ProposedIdeas } from '../../core/ideas';
import type { LlmConfig, TokenUsage } from '../../core/llm-schemas';
import { tfidfEmbed } from '../../core/tfidf';
import { ArtifactStore } from '../artifact-store';
import { LlmClient, llmConfigFromEnv } from '../llm/client';
import { loadTaskOrFail, starterFile } from '../tasks/registry';
import { bankIdeas } from './idea-bank';
import { llmIdeas } from './llm-ideas';

const STARTER = 'train.py';
/** Per word / character block; ~200 short idea texts have fewer distinct n-grams than this in practice. */
const TFIDF_FEATURES = 4096;
const EMBED_BATCH = 64;
export const TFIDF_EMBEDDER = 'tfidf(word 1-2, char_wb 3-5)';

export interface ProposeResult {
  candidates: ArtifactRef;
  count: number;
  source: 'bank' | 'llm';
  usage: TokenUsage[];
}

export interface EmbedResult {
  embeddings: ArtifactRef;
  embedder: string;
  usage: TokenUsage[];
}

export interface SelectResult {
  ideaSet: ArtifactRef;
  chosen: Idea[];
  diversity: IdeaSet['diversity'];
}

/**
 * Activities of the `generateIdeas` workflow. With no LLM endpoint configured, proposals come from
 * the built-in idea bank and embeddings from TF-IDF, and the results say so (`source`, `embedder`).
 */
export function createIdeaActivities(p: { store?: ArtifactStore; llm?: LlmConfig | null } = {}) {
  const store = p.store ?? new ArtifactStore();
  const llm = p.llm === undefined ? llmConfigFromEnv() : p.llm ?? undefined;
  const client = llm && new LlmClient(llm);

  return {
    async proposeIdeas(a: { task: string; seed: number; minCandidates: number }): Promise<ProposeResult> {
      const task = loadTaskOrFail(a.task);
      const source = await fs.readFile(starterFile(task), 'utf8');
      const proposed =
        client && llm?.model
          ? { source: 'llm' as const, ...(await llmIdeas({ client, task, source, scriptName: STARTER, seed: a.seed, count: a.minCandidates })) }
          : { source: 'bank' as const, ideas: bankIdeas({ source, scriptName: STARTER, taskType: task.type, metric: task.metric.name }), usage: [] };
      if (proposed.ideas.length < a.minCandidates) {
        const why = proposed.source === 'bank' ? `the idea bank found no model statement it can rewrite in ${STARTER}, or has too few ideas for type '${task.type}'` : 'the LLM proposed too few distinct ideas';
        throw ApplicationFailure.nonRetryable(`task ${task.name}: ${proposed.ideas.length} candidate ideas, fewer than minCandidates=${a.minCandidates} (${why})`, 'TooFewIdeas');
      }
      const value: ProposedIdeas = { task: task.name, source: proposed.source, candidates: proposed.ideas, usage: proposed.usage };
      return { candidates: await store.putJson(value, 'idea-candidates'), count: proposed.ideas.length, source: proposed.source, usage: proposed.usage };
    },

    async embedIdeas(a: { candidates: ArtifactRef }): Promise<EmbedResult> {
      const { candidates } = ProposedIdeas.parse(await store.getJson(a.candidates));
      const texts = candidates.map((i) => `${i.title}. ${i.text}`);
      let value: IdeaEmbeddings;
      if (client && llm?.embedModel) {
        const vectors: number[][] = [];
        const usage: TokenUsage[] = [];
        for (let i = 0; i < texts.length; i += EMBED_BATCH) {
          const res = await client.embed(texts.slice(i, i + EMBED_BATCH));
          vectors.push(...res.vectors);
          usage.push(res.usage);
        }
        value = { embedder: `llm:${llm.embedModel}`, vectors, usage };
      } else {
        value = { embedder: TFIDF_EMBEDDER, vectors: tfidfEmbed(texts, { maxFeaturesPerBlock: TFIDF_FEATURES }).vectors, usage: [] };
      }
      return { embeddings: await store.putJson(value, 'idea-embeddings'), embedder: value.embedder, usage: value.usage };
    },

    async selectDiverse(a: {
      task: string;
      k: number;
      seed: number;
      source: 'bank' | 'llm';
      candidates: ArtifactRef;
      embeddings: ArtifactRef;
      usage: TokenUsage[];
    }): Promise<SelectResult> {
      const { candidates } = ProposedIdeas.parse(await store.getJson(a.candidates));
      const { vectors, embedder } = IdeaEmbeddings.parse(await store.getJson(a.embeddings));
      if (vectors.length !== candidates.length) {
        throw ApplicationFailure.nonRetryable(`${vectors.length} embeddings for ${candidates.length} candidate ideas`, 'EmbeddingMismatch');
      }
      const picked = farthestPointSelection({ vectors, k: a.k, seed: a.seed });
      const diversity = { chosen: meanPairwiseDistance(picked.map((i) => vectors[i]!)), allCandidates: meanPairwiseDistance(vectors) };
      const chosen = picked.map((i) => candidates[i]!);
      const ideaSet: IdeaSet = {
        task: a.task,
        k: a.k,
        seed: a.seed,
        source: a.source,
        embedder,
        candidateCount: candidates.length,
        candidates: a.candidates,
        embeddings: a.embeddings,
        chosen,
        diversity,
        usage: a.usage,
      };
      return { ideaSet: await store.putJson(IdeaSet.parse(ideaSet), 'idea-set'), chosen, diversity };
    },
  };
}

export type IdeaActivities = ReturnType<typeof createIdeaActivities>;
