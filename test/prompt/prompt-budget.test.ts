import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadTask } from '../../activities/tasks/registry';
import { HISTORY_STEPS, SYSTEM_PROMPT, headTail, promptMessages, promptState, userPrompt } from '../../core/prompt';
import { PromptBudgetError, fitPrompt } from '../../core/prompt-budget';
import { PromptRenderer } from '../../model/chat-prompt';
import { tinyTokenizer } from '../model/fixtures';

const tokenizer = tinyTokenizer();
const renderer = new PromptRenderer(tokenizer);
const count = (m: Parameters<PromptRenderer['promptTokens']>[0]) => renderer.promptTokens(m);

/** A real task's state: 5 steps, the last 3 with long observations (a CSV dump, a training log, a traceback). */
function longState() {
  const csv = ['id,year,month,co2', ...Array.from({ length: 400 }, (_, i) => `${i},${1958 + Math.floor(i / 12)},${(i % 12) + 1},${(315 + i * 0.12).toFixed(2)}`)].join('\n');
  const logText = Array.from({ length: 300 }, (_, i) => `epoch ${i + 1}: train loss ${(1 / (i + 1)).toFixed(5)} val rmse ${(2 + 1 / (i + 1)).toFixed(4)}`).join('\n');
  const tb = `Traceback (most recent call last):\n${'  File "train.py", line 40, in fit\n'.repeat(60)}ValueError: could not convert string to float: 'NA'`;
  return promptState({
    researchProblem: loadTask('co2').researchProblem,
    seedIdeas: [{ text: 'Add a linear trend plus yearly sine/cosine features.' }, { text: 'Gradient boosting with 300 trees.' }],
    history: [
      { response: 'Thought: a\nAction: List Files\nAction Input: {"dir_path": "."}', observation: 'data/\ntrain.py' },
      { response: 'Thought: b\nAction: Read File\nAction Input: {"file_name": "train.py"}', observation: 'import pandas as pd\n' },
      { response: 'Thought: c\nAction: Read File\nAction Input: {"file_name": "data/train.csv"}', observation: csv },
      { response: 'Thought: d\nAction: Execute Script\nAction Input: {"script_name": "train.py"}', observation: logText },
      { response: 'Thought: e\nAction: Execute Script\nAction Input: {"script_name": "train.py"}', observation: tb },
    ],
  });
}

test('a state keeps the last 3 steps and counts the rest; the user message says how many were omitted', { timeout: 10_000 }, () => {
  const s = longState();
  assert.equal(s.history.length, HISTORY_STEPS);
  assert.equal(s.earlierSteps, 2);
  const user = userPrompt(s);
  assert.match(user, /History \(5 steps so far, the first 2 omitted\):/);
  assert.match(user, /\[Step 3\]\nThought: c/);
  assert.doesNotMatch(user, /Thought: b/);
  const [system] = promptMessages(s);
  assert.equal(system.role, 'system');
  assert.equal(system.content, SYSTEM_PROMPT);
  for (const name of ['List Files', 'Edit Script', 'Execute Script', 'Final Answer']) assert.ok(system.content.includes(`- ${name}: `), name);
});

test('headTail keeps the start and the end and says how much it left out', { timeout: 10_000 }, () => {
  const text = 'HEAD' + 'x'.repeat(1000) + 'TAIL';
  const cut = headTail(text, 100);
  assert.ok(cut.startsWith('HEAD') && cut.endsWith('TAIL'));
  assert.match(cut, /\[\.\.\. 908 characters omitted \.\.\.\]/);
  assert.equal(headTail('short', 100), 'short');
});

test('the budget keeps instructions, tools, task and ideas whole and cuts observations head + tail to fit', { timeout: 60_000 }, () => {
  const state = longState();
  const whole = count(promptMessages(state));
  const fixedOnly = count(promptMessages(state, { steps: 0, observationChars: 0 }));
  const budget = fixedOnly + 1500;
  assert.ok(whole > budget, `the whole prompt (${whole}) is over the budget (${budget})`);
  const fitted = fitPrompt({ state, budget, countTokens: count });
  assert.ok(fitted.tokens <= budget, `${fitted.tokens} <= ${budget}`);
  assert.equal(fitted.tokens, count(fitted.messages));
  assert.equal(fitted.view.steps, 3, 'all three steps still shown');
  assert.ok(fitted.view.observationChars !== null && fitted.view.observationChars > 0);
  const [system, user] = fitted.messages;
  assert.equal(system.content, SYSTEM_PROMPT);
  assert.ok(user.content.includes(loadTask('co2').researchProblem), 'research problem whole');
  assert.ok(user.content.includes('1. Add a linear trend plus yearly sine/cosine features.') && user.content.includes('2. Gradient boosting with 300 trees.'));
  // each long observation: head and tail kept, the middle left out
  assert.ok(user.content.includes('Observation: id,year,month,co2'));
  assert.ok(user.content.includes("ValueError: could not convert string to float: 'NA'"), 'the end of the traceback (the error) is kept');
  assert.equal((user.content.match(/characters omitted/g) ?? []).length, 3);
  // the longest cut that fits: one more character would not
  const more = count(promptMessages(state, { steps: 3, observationChars: fitted.view.observationChars! + 1 }));
  assert.ok(more > budget, `a longer cut (${more} tokens) would still fit ${budget}`);
});

test('a prompt within budget is left whole', { timeout: 10_000 }, () => {
  const state = promptState({ researchProblem: 'Predict y.', seedIdeas: [], history: [{ response: 'Thought: x\nAction: List Files\nAction Input: {"dir_path": "."}', observation: 'a.csv' }] });
  const fitted = fitPrompt({ state, budget: 100_000, countTokens: count });
  assert.deepEqual(fitted.view, { steps: 1, observationChars: null });
  assert.deepEqual(fitted.messages, promptMessages(state));
});

test('when even empty observations do not fit, the oldest steps go; when the fixed parts do not fit, a clear error', { timeout: 60_000 }, () => {
  const state = longState();
  const fixed = count(promptMessages(state, { steps: 0, observationChars: 0 }));
  const oneStep = count(promptMessages(state, { steps: 1, observationChars: 0 }));
  const fitted = fitPrompt({ state, budget: oneStep, countTokens: count });
  assert.equal(fitted.view.steps, 1);
  assert.ok(fitted.tokens <= oneStep);
  assert.equal(fitPrompt({ state, budget: fixed, countTokens: count }).view.steps, 0);
  assert.throws(() => fitPrompt({ state, budget: fixed - 1, countTokens: count }), (err: Error) => {
    assert.ok(err instanceof PromptBudgetError);
    assert.match(err.message, new RegExp(`fixed parts .* take ${fixed} tokens, more than the budget of ${fixed - 1}`));
    return true;
  });
});
