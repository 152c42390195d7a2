/**
 * The chosen ideas run for real: each one's edits applied to the prepared wa_churn workspace, the
 * script run with the host's /usr/bin/python3 (the same Debian packages as the sandbox image), and
 * the submission scored against the hidden answers, next to the unedited starter.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createIdeaActivities } from '../../activities/ideas/activities';
import { ArtifactStore } from '../../activities/artifact-store';
import { prepareTask } from '../../activities/tasks/prepare';
import { loadTask } from '../../activities/tasks/registry';
import { scoreSubmission } from '../../activities/tasks/score';
import { applyEdits } from '../../core/apply-edits';

const TASK = 'wa_churn';
const K = 6;

async function runScript(p: { publicDir: string; script: string; timeoutSec: number }): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-idea-run-'));
  try {
    fs.cpSync(p.publicDir, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'train.py'), p.script);
    const run = spawnSync('/usr/bin/python3', ['train.py'], { cwd: dir, encoding: 'utf8', timeout: p.timeoutSec * 1000 });
    assert.equal(run.status, 0, `train.py failed (python3-sklearn and python3-pandas must be installed): ${run.error?.message ?? run.stderr.slice(-800)}`);
    const score = await scoreSubmission({ task: TASK, submission: fs.readFileSync(path.join(dir, 'submission.csv')) });
    assert.ok(score.ok, !score.ok ? score.error : '');
    return score.metric;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test(`the ${K} most diverse ideas for ${TASK} all run and score, and some beat the starter`, async () => {
  const task = loadTask(TASK);
  const { publicDir } = await prepareTask(TASK);
  const store = new ArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-idea-run-store-')));
  const act = createIdeaActivities({ store, llm: null });
  const proposed = await act.proposeIdeas({ task: TASK, seed: 1, minCandidates: 100 });
  const embedded = await act.embedIdeas({ candidates: proposed.candidates });
  const { chosen } = await act.selectDiverse({ task: TASK, k: K, seed: 1, source: 'bank', candidates: proposed.candidates, embeddings: embedded.embeddings, usage: [] });
  fs.rmSync(store.root, { recursive: true, force: true });

  const starter = fs.readFileSync(path.join(publicDir, 'train.py'), 'utf8');
  const base = await runScript({ publicDir, script: starter, timeoutSec: task.scriptTimeoutSec });
  // A margin, so a refit of the same model that differs in the last bits does not count as better.
  const better = (m: number) => (task.metric.direction === 'higher' ? m > base + 1e-6 : m < base - 1e-6);
  const results: string[] = [];
  let improved = 0;
  for (const idea of chosen) {
    const edited = applyEdits(starter, idea.edits![0]!.edits);
    assert.ok(edited.ok, `${idea.id}: ${!edited.ok && edited.error}`);
    const m = await runScript({ publicDir, script: edited.text, timeoutSec: task.scriptTimeoutSec });
    if (better(m)) improved++;
    results.push(`${idea.id}: ${m.toFixed(4)}`);
  }
  console.log(`${TASK} starter ${task.metric.name} ${base.toFixed(4)}; ${improved} of ${K} ideas beat it: ${results.join(', ')}`);
  // Diversity, not quality, picks these ideas; still, a bank where none helps would be useless to the expert.
  assert.ok(improved >= 2, `only ${improved} of ${K} ideas beat the starter (${base}): ${results.join(', ')}`);
});
