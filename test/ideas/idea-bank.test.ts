import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { bankIdeas } from '../../activities/ideas/idea-bank';
import { findModelStatement } from '../../activities/ideas/python-anchors';
import { listTasks, taskDir } from '../../activities/tasks/registry';
import { applyEdits } from '../../core/apply-edits';
import { occurrences } from '../../activities/ideas/python-anchors';

const starter = (task: string) => fs.readFileSync(path.join(taskDir(task), 'train.py'), 'utf8');

/** Python syntax check of many scripts in one interpreter run: returns the indices that do not parse. */
function unparsable(scripts: string[]): number[] {
  const res = spawnSync('/usr/bin/python3', ['-c', 'import ast,json,sys\nbad=[]\nfor i,s in enumerate(json.load(sys.stdin)):\n    try: ast.parse(s)\n    except SyntaxError: bad.append(i)\nprint(json.dumps(bad))'], {
    input: JSON.stringify(scripts),
    encoding: 'utf8',
  });
  assert.equal(res.status, 0, `python3 failed (install python3): ${res.error?.message ?? res.stderr}`);
  return JSON.parse(res.stdout) as number[];
}

const trainingTasks = listTasks().filter((t) => t.split === 'train');

test('there are training tasks with starters to generate ideas for', () => {
  assert.ok(trainingTasks.length >= 9, `expected the 9 training tasks under tasks/, found ${trainingTasks.map((t) => t.name)}`);
});

for (const task of trainingTasks) {
  test(`idea bank on ${task.name} (${task.type}): ≥100 candidates whose edits apply cleanly and parse`, () => {
    const source = starter(task.name);
    const ideas = bankIdeas({ source, scriptName: 'train.py', taskType: task.type, metric: task.metric.name });
    assert.ok(ideas.length >= 100, `${task.name}: only ${ideas.length} candidates`);
    assert.equal(new Set(ideas.map((i) => i.id)).size, ideas.length, 'idea ids must be unique');
    assert.equal(new Set(ideas.map((i) => i.text)).size, ideas.length, 'idea texts must be distinct');
    const edited = ideas.map((idea) => {
      assert.equal(idea.source, 'bank');
      assert.equal(idea.edits?.length, 1);
      const { script_name, edits } = idea.edits![0]!;
      assert.equal(script_name, 'train.py');
      // Exactly once in the starter itself, and still exactly once when applied in order.
      for (const e of edits) assert.equal(occurrences(source, e.old), 1, `${idea.id}: old text must occur once: ${e.old}`);
      const r = applyEdits(source, edits);
      assert.ok(r.ok, `${idea.id}: ${!r.ok && r.error}`);
      assert.notEqual(r.text, source);
      return r.text;
    });
    assert.deepEqual(unparsable(edited), [], 'every edited starter must be valid Python');
  });
}

test('idea bank: a starter without a rewritable model statement gets no ideas', () => {
  const base = starter('wa_churn');
  const statement = findModelStatement(base)!;
  assert.ok(statement, 'the wa_churn starter has a model statement');
  const variants = {
    'no fit call': base.replaceAll('model.fit(', 'model.train('),
    'a step the bank would drop': base.replace(statement.text, 'model = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=1000))'),
    'the model assigned twice': base.replace(statement.text, `${statement.text}\nmodel = LogisticRegression()`),
  };
  for (const [why, source] of Object.entries(variants)) {
    assert.deepEqual(bankIdeas({ source, scriptName: 'train.py', taskType: 'binary', metric: 'auc' }), [], why);
  }
  assert.deepEqual(bankIdeas({ source: base, scriptName: 'train.py', taskType: 'text-binary', metric: 'auc' }), [], 'text ideas need a vectorizer step');
});

test('model statement anchor: pipeline steps, strings and comments do not confuse it', () => {
  const src = [
    'from sklearn.pipeline import make_pipeline',
    '# model = Ridge()  (a comment)',
    'note = "model.fit( is in a string"',
    'model = make_pipeline(',
    '    StandardScaler(with_mean=False),  # keep sparse',
    '    LogisticRegression(C=1.0, max_iter=1000),',
    ')',
    'model.fit(X, y)',
    '',
  ].join('\n');
  const m = findModelStatement(src)!;
  assert.equal(m.lhs, 'model = ');
  assert.deepEqual(m.steps.map((s) => s.name), ['StandardScaler', 'LogisticRegression']);
  assert.equal(m.steps[1]!.text, 'LogisticRegression(C=1.0, max_iter=1000)');
  assert.ok(m.text.startsWith('model = make_pipeline(') && m.text.endsWith(')'));
});
