import { z } from 'zod';
import { applyEdits } from '../../core/apply-edits';
import type { Idea } from '../../core/ideas';
import type { TokenUsage } from '../../core/llm-schemas';
import type { TaskSpec } from '../../core/task-schema';
import type { LlmClient } from '../llm/client';

/**
 * Idea proposals from an LLM, in batches, each batch told the titles it already has so it proposes
 * new ones. Edits the model offers are kept only if they apply cleanly to the starter; an idea whose
 * edits do not apply keeps its text (the expert implements it itself).
 */

const BATCH = 25;

const Reply = z.object({
  ideas: z.array(
    z.object({
      title: z.string().min(1),
      text: z.string().min(1),
      edits: z.array(z.object({ old: z.string().min(1), new: z.string() })).optional(),
    }),
  ),
});

export interface LlmIdeasParams {
  client: LlmClient;
  task: TaskSpec;
  source: string;
  scriptName: string;
  seed: number;
  count: number;
}

export async function llmIdeas(p: LlmIdeasParams): Promise<{ ideas: Idea[]; usage: TokenUsage[] }> {
  const ideas = new Map<string, Idea>();
  const usage: TokenUsage[] = [];
  const maxCalls = Math.ceil(p.count / BATCH) + 3;
  for (let call = 0; call < maxCalls && ideas.size < p.count; call++) {
    const res = await p.client.chat({ messages: prompt(p, [...ideas.values()].map((i) => i.title)), temperature: 0.9, seed: p.seed + call });
    usage.push(res.usage);
    for (const proposal of parseReply(res.content)) {
      const id = `llm-${slug(proposal.title)}`;
      if (ideas.has(id)) continue;
      const applies = proposal.edits !== undefined && proposal.edits.length > 0 && applyEdits(p.source, proposal.edits).ok;
      ideas.set(id, {
        id,
        title: proposal.title,
        text: proposal.text,
        source: 'llm',
        ...(applies && { edits: [{ script_name: p.scriptName, edits: proposal.edits! }] }),
      });
    }
  }
  return { ideas: [...ideas.values()], usage };
}

/** The ideas in a reply, or none when it is not the JSON asked for (the next batch makes up for it). */
function parseReply(content: string): z.infer<typeof Reply>['ideas'] {
  const start = content.indexOf('{');
  const end = content.lastIndexOf('}');
  if (start < 0 || end < start) return [];
  try {
    const parsed = Reply.safeParse(JSON.parse(content.slice(start, end + 1)));
    return parsed.success ? parsed.data.ideas : [];
  } catch {
    return [];
  }
}

function prompt(p: LlmIdeasParams, known: string[]) {
  return [
    {
      role: 'system' as const,
      content: 'You are an expert machine learning engineer. You propose concrete, diverse ways to improve a training script, and answer with JSON only.',
    },
    {
      role: 'user' as const,
      content: [
        `Research problem:\n${p.task.researchProblem}`,
        `Metric: ${p.task.metric.name} (${p.task.metric.direction} is better). The starter scores ${p.task.m_init}.`,
        `Starter script ${p.scriptName}:\n\`\`\`python\n${p.source}\n\`\`\``,
        known.length > 0 ? `Ideas already proposed (propose different ones):\n${known.map((t) => `- ${t}`).join('\n')}` : '',
        `Propose ${BATCH} new, diverse improvement ideas (models, hyperparameters, preprocessing, feature engineering, validation). ` +
          'For each give a short title, a one-paragraph text, and the exact edits implementing it on the starter: ' +
          'each edit replaces text `old`, copied exactly from the script and occurring once, by `new`. ' +
          'Answer with JSON only: {"ideas": [{"title": "...", "text": "...", "edits": [{"old": "...", "new": "..."}]}]}',
      ]
        .filter((s) => s !== '')
        .join('\n\n'),
    },
  ];
}

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'idea';
}
