import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ACTION_NAMES } from '../../core/actions';
import { applyEdits } from '../../core/apply-edits';
import { parseResponse } from '../../core/parse-response';
import { editableLines, responseProgram, type WorkspaceFacts } from '../../model/action-grammar';
import { initBackend } from '../../model/backend';
import { DecodingMasks, maskReplays } from '../../model/decoding-masks';
import { generate } from '../../model/generate';
import { scoreResponses } from '../../model/ppo-update';
import { Qwen2Model } from '../../model/qwen2';
import { DEAD, ResponseAutomaton } from '../../model/response-automaton';
import { environmentActions, factsOfEntries, misfit, workspaceFacts } from '../../activities/model/workspace-facts';
import { ArtifactStore } from '../../activities/artifact-store';
import { workspaceTar } from '../../activities/sandbox/workspace-tar';
import { assertDistIsShortestCompletion } from './automaton-invariants';
import { tinyConfig, tinyTokenizer } from './fixtures';

before(async () => { await initBackend(); });

const SCRIPT = 'import pandas as pd\nC = 1.0\nC = 1.0\nmodel = fit(C)\n    model = fit(C)\n\nprint("done é")\n';
const WS: WorkspaceFacts = {
  dirs: ['.', 'data'],
  files: ['README.md', 'data/train.csv', 'train.py', 'util.py'],
  scripts: [{ path: 'train.py', text: SCRIPT }, { path: 'util.py', text: 'def f():\n    return 1\n' }],
};
const automaton = new ResponseAutomaton(responseProgram(ACTION_NAMES, WS));
const head = (name: string) => `Thought: ok\nAction: ${name}\nAction Input: `;

function run(text: string, a = automaton): number {
  let s = a.start;
  for (const b of Buffer.from(text, 'utf8')) if ((s = a.next(s, b)) === DEAD) return DEAD;
  return s;
}

test('editable lines: not blank and occurring once in the whole script (a line inside another line is not unique)', { timeout: 10_000 }, () => {
  assert.deepEqual(editableLines(SCRIPT), ['import pandas as pd', '    model = fit(C)', 'print("done é")']);
});

test('a grounded response names only what exists and makes one edit of a line that occurs once', { timeout: 10_000 }, () => {
  const accepted = [
    `${head('List Files')}{"dir_path": "data"}`,
    `${head('List Files')}{"dir_path": "."}`,
    `${head('Read File')}{"file_name": "data/train.csv"}`,
    `${head('Execute Script')}{"script_name": "util.py"}`,
    `${head('Edit Script')}{"script_name": "train.py", "edits": [{"old": "    model = fit(C)", "new": "    model = fit(C * 2)"}]}`,
    `${head('Edit Script')}{"script_name": "train.py", "edits": [{"old": "print(\\"done \\u00e9\\")", "new": ""}]}`,
    `${head('Edit Script')}{"script_name": "util.py", "edits": [{"old": "    return 1", "new": "    return 2"}]}`,
  ];
  for (const text of accepted) {
    assert.ok(automaton.accepts(run(text)), text);
    const parsed = parseResponse(text);
    assert.ok(parsed.ok, text);
    const { action } = parsed;
    if (action.name === 'Edit Script') {
      const script = WS.scripts.find((s) => s.path === action.input.script_name)!;
      assert.ok(applyEdits(script.text, action.input.edits).ok, text);
    }
  }
  const rejected: [string, string][] = [
    [`${head('List Files')}{"dir_path": "../data"`, 'a directory outside the workspace'],
    [`${head('List Files')}{"dir_path": "train.py"`, 'a file as a directory'],
    [`${head('Read File')}{"file_name": "data/test.csv"`, 'a file that does not exist'],
    [`${head('Execute Script')}{"script_name": "README.md"`, 'a file that is not a script'],
    [`${head('Edit Script')}{"script_name": "train.py", "edits": [{"old": "C = 1.0"`, 'a line that occurs twice'],
    [`${head('Edit Script')}{"script_name": "train.py", "edits": [{"old": "model = fit(C)"`, 'a line that also occurs inside another'],
    [`${head('Edit Script')}{"script_name": "train.py", "edits": [{"old": "import"`, 'part of a line'],
    [`${head('Edit Script')}{"script_name": "train.py", "edits": [{"old": "    return 1"`, 'a line of the other script'],
    [`${head('Edit Script')}{"script_name": "train.py", "edits": [{"old": "..."`, 'a placeholder'],
    [`${head('Edit Script')}{"script_name": "train.py", "edits": [{"old": "import pandas as pd", "new": ""},`, 'a second edit (it could name a line the first replaced)'],
  ];
  for (const [text, why] of rejected) assert.equal(run(text), DEAD, why);
});

test('actions with nothing to name in the workspace are left out; none at all is an error', { timeout: 10_000 }, () => {
  const bare = new ResponseAutomaton(responseProgram(ACTION_NAMES, { dirs: ['.'], files: ['notes.txt'], scripts: [] }));
  assert.notEqual(run(`${head('Read File')}{"file_name": "notes.txt"}`, bare), DEAD);
  for (const name of ['Execute Script', 'Edit Script', 'Inspect Script Lines', 'Undo Edit Script']) assert.equal(run(`${head(name)}`, bare), DEAD, name);
  // a script without a unique line can be run but not edited
  const flat = new ResponseAutomaton(responseProgram(ACTION_NAMES, { dirs: ['.'], files: ['a.py'], scripts: [{ path: 'a.py', text: 'x\nx\n' }] }));
  assert.notEqual(run(`${head('Execute Script')}{"script_name": "a.py"}`, flat), DEAD);
  assert.equal(run(head('Edit Script'), flat), DEAD);
  assert.throws(() => responseProgram(['Execute Script'], { dirs: ['.'], files: [], scripts: [] }), /at least one action/);
});

test('grounded dist is the exact shortest completion (the automaton never paints itself into a corner)', { timeout: 60_000 }, () => {
  assertDistIsShortestCompletion(automaton, { numRuns: 150, seed: 3 });
});

test('a random tiny model, constrained per prompt to its own workspace, writes actions that run there; per-row masks replay its log-probs', { timeout: 240_000 }, () => {
  const tok = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tok.vocabSize }), 13);
  const other: WorkspaceFacts = { dirs: ['.', 'src'], files: ['src/run.py'], scripts: [{ path: 'src/run.py', text: 'lr = 0.1\nepochs = 3\n' }] };
  const workspaces = [WS, other];
  const prompts = ['Research problem: forecast co2.', 'Observation: run.py printed loss 0.5'];
  const actions = environmentActions({});
  let edits = 0;
  for (let seed = 0; seed < 12; seed++) {
    const options = { seed, temperature: 1.2, maxNewTokens: 160, decoding: 'constrained' as const, constraint: workspaces.map((workspace) => ({ actions, workspace, maxThoughtTokens: 6, maxInputTokens: 60 })) };
    const gens = generate(model, tok, prompts, options);
    gens.forEach((g, i) => {
      const ws = workspaces[i];
      const parsed = parseResponse(g.text);
      assert.ok(parsed.ok, `${JSON.stringify(g.text)}: ${parsed.ok || parsed.error}`);
      const { action } = parsed;
      assert.notEqual(action.name, 'Edit Script (AI)', 'no coder LLM configured');
      const input: Record<string, unknown> = action.input;
      if (typeof input.dir_path === 'string') assert.ok(ws.dirs.includes(input.dir_path), g.text);
      if (typeof input.file_name === 'string') assert.ok(ws.files.includes(input.file_name), g.text);
      if (typeof input.script_name === 'string') assert.ok(ws.scripts.some((s) => s.path === input.script_name), g.text);
      if (action.name === 'Edit Script') {
        edits++;
        const text = ws.scripts.find((s) => s.path === action.input.script_name)!.text;
        assert.equal(action.input.edits.length, 1, g.text);
        assert.ok(editableLines(text).includes(action.input.edits[0].old), g.text);
        assert.ok(applyEdits(text, action.input.edits).ok, g.text);
      }
    });
    const replays = maskReplays(options, prompts.length);
    const pairs = gens.map((g, i) => ({ prompt: tok.encode(prompts[i]), continuation: g.tokens, masks: replays[i]! }));
    const rescored = scoreResponses(model, pairs, new DecodingMasks(tok)).logprobs;
    gens.forEach((g, i) => g.logprobs.forEach((lp, k) => assert.ok(Math.abs(lp - rescored[i][k]) < 1e-3, `seed ${seed} row ${i} token ${k}`)));
  }
  assert.ok(edits > 0, 'some sampled actions were edits');
  model.dispose();
});

test('workspace facts from a stored snapshot; Edit Script (AI) only with a coder LLM configured', { timeout: 30_000 }, async () => {
  const tar = await workspaceTar([
    { path: 'data', type: 'dir', mode: 0o755, data: Buffer.alloc(0) },
    { path: 'data/train.csv', type: 'file', mode: 0o644, data: Buffer.from('a,b\n1,2\n') },
    { path: 'train.py', type: 'file', mode: 0o644, data: Buffer.from('print(1)\n') },
    { path: 'big.py', type: 'file', mode: 0o644, data: Buffer.alloc(70 * 1024, 0x23) },
  ]);
  const store = new ArtifactStore();
  const facts = await workspaceFacts(await store.put(tar, 'workspace-snapshot'), store);
  assert.deepEqual(facts.dirs, ['.', 'data']);
  assert.deepEqual([...facts.files].sort(), ['big.py', 'data/train.csv', 'train.py']);
  assert.deepEqual(facts.scripts, [{ path: 'train.py', text: 'print(1)\n' }], 'a script too large to offer line by line is left out');
  assert.deepEqual(factsOfEntries([]), { dirs: ['.'], files: [], scripts: [] });
  assert.ok(!environmentActions({}).includes('Edit Script (AI)'));
  assert.ok(environmentActions({ MLAGENT_LLM_BASE_URL: 'http://localhost:8000/v1', MLAGENT_LLM_MODEL: 'coder' }).includes('Edit Script (AI)'));
});

test('misfit names what would fail in the workspace without running anything: paths, edits, unavailable actions', { timeout: 10_000 }, () => {
  const actions = environmentActions({});
  assert.equal(misfit({ name: 'List Files', input: { dir_path: 'data/' } }, WS, actions), null);
  assert.equal(misfit({ name: 'Execute Script', input: { script_name: './train.py' } }, WS, actions), null);
  assert.match(misfit({ name: 'Read File', input: { file_name: '../data/train.csv' } }, WS, actions)!, /no file/);
  assert.match(misfit({ name: 'List Files', input: { dir_path: 'Never_In_Review' } }, WS, actions)!, /no directory/);
  assert.match(misfit({ name: 'Edit Script', input: { script_name: 'train.py', edits: [{ old: '...', new: 'x' }] } }, WS, actions)!, /old text not found/);
  assert.match(misfit({ name: 'Edit Script', input: { script_name: 'train.py', edits: [{ old: 'C = 1.0', new: 'C = 2' }] } }, WS, actions)!, /more than once/);
  assert.equal(misfit({ name: 'Edit Script', input: { script_name: 'train.py', edits: [{ old: 'import pandas as pd', new: '' }] } }, WS, actions), null);
  assert.match(misfit({ name: 'Edit Script (AI)', input: { script_name: 'train.py', edit_instruction: 'x', save_name: 'train.py' } }, WS, actions)!, /not available/);
});
