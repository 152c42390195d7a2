/**
 * The LLM path of idea generation against a local fake OpenAI-compatible server (canned replies, no
 * model): proposals in batches, edits checked against the real starter, embeddings, usage recorded.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createIdeaActivities } from '../../activities/ideas/activities';
import { findModelStatement } from '../../activities/ideas/python-anchors';
import { ArtifactStore } from '../../activities/artifact-store';
import { taskDir } from '../../activities/tasks/registry';
import { IdeaSet, ProposedIdeas } from '../../core/ideas';
import { chatReply, embeddingsReply, type FakeOpenAiServer, startFakeOpenAiServer } from '../llm/fake-openai-server';

let fake: FakeOpenAiServer;
const store = new ArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-llm-ideas-')));
const starter = fs.readFileSync(path.join(taskDir('wa_churn'), 'train.py'), 'utf8');
const statement = findModelStatement(starter)!.text;

before(async () => {
  fake = await startFakeOpenAiServer();
});
after(() => {
  fake.close();
  fs.rmSync(store.root, { recursive: true, force: true });
});

/** Batch n: 25 ideas (one with a good edit, one with an edit that does not apply, one repeat); batch 1 is garbage. */
function batch(n: number): string {
  if (n === 1) return 'Sorry, I cannot answer in JSON today.';
  const ideas = Array.from({ length: 25 }, (_, i) => ({ title: `Idea ${n}.${i}`, text: `Try variant ${i} of family ${n} with word${n * 100 + i}.` }));
  ideas[0] = { ...ideas[0]!, edits: [{ old: statement, new: 'model = make_pipeline(StandardScaler(), LogisticRegression(C=0.3, max_iter=1000))' }] } as (typeof ideas)[0];
  ideas[1] = { ...ideas[1]!, edits: [{ old: 'model = NotInTheScript()', new: 'x' }] } as (typeof ideas)[0];
  ideas[2] = { title: 'Idea 0.0', text: 'a repeat of an earlier title' };
  return `Here you go:\n\`\`\`json\n${JSON.stringify({ ideas })}\n\`\`\``;
}

test('LLM ideas: batches until ≥ minCandidates, edits kept only where they apply, usage recorded end to end', async () => {
  let calls = 0;
  fake.handle((req) => {
    if (req.url.endsWith('/chat/completions')) return { status: 200, body: chatReply(batch(calls++)) };
    const input = req.body.input as string[];
    return { status: 200, body: embeddingsReply(input.map((s) => Array.from({ length: 8 }, (_, d) => ((s.charCodeAt(d % s.length) * (d + 1) + s.length) % 17) - 8))) };
  });
  const act = createIdeaActivities({ store, llm: { baseUrl: fake.baseUrl, model: 'chat-m', embedModel: 'embed-m', timeoutMs: 5000 } });

  const proposed = await act.proposeIdeas({ task: 'wa_churn', seed: 3, minCandidates: 100 });
  assert.equal(proposed.source, 'llm');
  // Every batch but the garbage one gives 24 new ideas (one title repeats 'Idea 0.0'): 6 calls to pass 100.
  assert.equal(calls, 6);
  assert.equal(proposed.count, 5 * 24);
  assert.equal(proposed.usage.length, 6);
  const { candidates } = ProposedIdeas.parse(await store.getJson(proposed.candidates));
  const good = candidates.find((i) => i.title === 'Idea 2.0')!;
  assert.deepEqual(good.edits?.[0]?.script_name, 'train.py');
  assert.equal(candidates.find((i) => i.title === 'Idea 2.1')!.edits, undefined, 'an edit that does not apply is dropped, the idea kept');
  const chats = fake.seen.filter((r) => r.url.endsWith('/chat/completions'));
  assert.equal(chats[0]!.body.seed, 3);
  assert.match(JSON.stringify(chats[2]!.body.messages), /Idea 0\.24/, 'later batches are told the titles already proposed');

  const embedded = await act.embedIdeas({ candidates: proposed.candidates });
  assert.equal(embedded.embedder, 'llm:embed-m');
  assert.equal(embedded.usage.length, Math.ceil(proposed.count / 64));
  const selected = await act.selectDiverse({ task: 'wa_churn', k: 10, seed: 1, source: 'llm', candidates: proposed.candidates, embeddings: embedded.embeddings, usage: [...proposed.usage, ...embedded.usage] });
  const set = IdeaSet.parse(await store.getJson(selected.ideaSet));
  assert.equal(set.chosen.length, 10);
  assert.equal(set.usage.length, 6 + embedded.usage.length);
  assert.equal(set.usage.reduce((s, u) => s + u.totalTokens, 0), 6 * 17 + proposed.count * 4);
});

test('LLM ideas: too few distinct proposals is a non-retryable failure that says so', async () => {
  fake.handle(() => ({ status: 200, body: chatReply(JSON.stringify({ ideas: [{ title: 'Only one', text: 'the same idea again' }] })) }));
  const act = createIdeaActivities({ store, llm: { baseUrl: fake.baseUrl, model: 'chat-m', timeoutMs: 5000 } });
  await assert.rejects(act.proposeIdeas({ task: 'wa_churn', seed: 1, minCandidates: 100 }), /1 candidate ideas, fewer than minCandidates=100 \(the LLM proposed too few distinct ideas\)/);
});
