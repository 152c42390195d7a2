import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scriptedExpertResponse, validationScore } from '../../activities/agents/scripted-expert';
import { ideaSubsets } from '../../core/idea-subsets';
import { parseResponse } from '../../core/parse-response';

test('idea subsets cover every idea before repeating, within the size bounds, reproducibly', () => {
  const a = ideaSubsets({ ideaCount: 10, episodes: 6, min: 1, max: 3, seed: 7 });
  assert.deepEqual(a, ideaSubsets({ ideaCount: 10, episodes: 6, min: 1, max: 3, seed: 7 }));
  assert.ok(a.every((s) => s.length >= 1 && s.length <= 3 && new Set(s).size === s.length));
  const firstTen = a.flat().slice(0, 10);
  assert.equal(new Set(firstTen).size, Math.min(10, firstTen.length));
  assert.notDeepEqual(a, ideaSubsets({ ideaCount: 10, episodes: 6, min: 1, max: 3, seed: 8 }));
});

test('the scripted expert undoes an idea that scores worse and keeps one that scores better', () => {
  const idea = (id: string) => ({ id, text: `idea ${id}`, edits: [{ script_name: 'train.py', edits: [{ old: 'model = A()', new: `model = ${id}()` }] }] });
  const ideas = [idea('B'), idea('C')];
  const act = (history: { response: string; observation: string }[]) => {
    const r = parseResponse(scriptedExpertResponse({ step: history.length, history, seedIdeas: ideas, script: 'train.py', higherIsBetter: true, seed: 1 }));
    assert.ok(r.ok);
    return r.action;
  };
  const history: { response: string; observation: string }[] = [];
  const scores = [0.8, 0.7, 0.9]; // baseline, first idea (worse), second idea (better)
  let runs = 0;
  for (let i = 0; i < 15; i++) {
    const action = act(history);
    if (action.name === 'Final Answer') break;
    const observation = action.name === 'Execute Script' ? `validation accuracy: ${scores[runs++]}` : 'ok';
    history.push({ response: `Action: ${action.name}`, observation });
  }
  const names = history.map((h) => h.response.slice(8));
  const firstEdit = names.indexOf('Edit Script');
  assert.deepEqual(names.slice(firstEdit), ['Edit Script', 'Execute Script', 'Undo Edit Script', 'Edit Script', 'Execute Script']);
});

test('the validation score is read from the last line the starter prints', () => {
  assert.equal(validationScore('validation MAE: 1.5\nvalidation MAE: 1.25e-1\n'), 0.125);
  assert.equal(validationScore('validation mean Poisson deviance: 2.0'), 2);
  assert.equal(validationScore('no score'), undefined);
});
