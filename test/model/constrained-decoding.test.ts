import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { ACTION_NAMES, ActionInputs, ActionName } from '../../core/actions';
import { parseResponse } from '../../core/parse-response';
import { ACTION_FIELDS, responseProgram } from '../../model/action-grammar';
import { initBackend } from '../../model/backend';
import { ConstrainedResponse } from '../../model/constrained-decoding';
import { DecodingMasks, maskReplays } from '../../model/decoding-masks';
import { continuationLogProbs, generate } from '../../model/generate';
import { scoreResponses } from '../../model/ppo-update';
import { Qwen2Model } from '../../model/qwen2';
import { DEAD, ResponseAutomaton } from '../../model/response-automaton';
import { tokenTrie } from '../../model/token-trie';
import { assertDistIsShortestCompletion } from './automaton-invariants';
import { tinyConfig, tinyTokenizer } from './fixtures';

before(async () => { await initBackend(); });

const automaton = new ResponseAutomaton(responseProgram(ACTION_NAMES));

/** State after `text`'s bytes, or DEAD. */
function run(text: string, from = automaton.start): number {
  let s = from;
  for (const b of Buffer.from(text, 'utf8')) if ((s = automaton.next(s, b)) === DEAD) return DEAD;
  return s;
}

const head = (name: string) => `Thought: look first.\nAction: ${name}\nAction Input: `;

test('the grammar has exactly each action schema\'s keys, in order', { timeout: 10_000 }, () => {
  for (const name of ACTION_NAMES) {
    const shape = (ActionInputs[name] as unknown as { shape: Record<string, unknown> }).shape;
    assert.deepEqual(ACTION_FIELDS[name].map(([k]) => k), Object.keys(shape), name);
  }
});

test('the automaton accepts valid responses (and their prefixes stay live) and kills invalid ones where they go wrong', { timeout: 10_000 }, () => {
  const valid = [
    `${head('List Files')}{"dir_path": "."}`,
    `${head('List Files')}{"dir_path":"data/sub dir"}`,
    `Thought: \nAction: Read File\nAction Input: {"file_name": "a\\"b\\\\c\\u00e9\\n"}`,
    `${head('Inspect Script Lines')}{"script_name": "train.py", "start_line_number": 9, "end_line_number": 10}`,
    `${head('Inspect Script Lines')}{"script_name":"t.py","start_line_number":120,"end_line_number":120}`,
    `${head('Understand File')}{"file_name": "data/train.csv", "things_to_look_for": ""}`,
    `${head('Edit Script')}{"script_name": "train.py", "edits": [{"old": "a = 1", "new": ""}, {"old": "}", "new": "{\\"x\\": [1]}"}]}`,
    `${head('Edit Script (AI)')}{"script_name": "a.py", "edit_instruction": "scale", "save_name": "a.py"}`,
    `${head('Final Answer')}{"final_answer": "kept the MLP"}`,
  ];
  for (const text of valid) {
    for (let i = 1; i < text.length; i++) {
      const s = run(text.slice(0, i));
      assert.notEqual(s, DEAD, `prefix ${JSON.stringify(text.slice(0, i))}`);
      assert.equal(automaton.accepts(s), false);
    }
    assert.ok(automaton.accepts(run(text)), text);
    assert.equal(parseResponse(text).ok, true, text);
  }
  const invalid: [string, string][] = [
    ['Action: List Files', 'no thought line'],
    ['Thought: a\nb', 'a two-line thought'],
    ['Thought: café', 'non-ASCII free text'],
    ['Thought: a\nAction: Run Script', 'unknown action'],
    ['Thought: a\nAction: List Files \n', 'trailing space in the name'],
    [`${head('List Files')}{"dir_path": ""`, 'empty required string'],
    [`${head('List Files')}{"dir_path": 1`, 'number for a string'],
    [`${head('List Files')}{"dir_path": "a\nb`, 'raw newline in a string'],
    [`${head('List Files')}{"dir_path": "\\q`, 'bad escape'],
    [`${head('List Files')}{"dir_path": "\\u12G`, 'bad unicode escape'],
    [`${head('List Files')}{"dir_path": ".",`, 'extra key'],
    [`${head('List Files')}{"file_name"`, 'wrong key'],
    [`${head('List Files')}{"dir_path": "."}}`, 'anything after the object'],
    [`${head('List Files')}{ "dir_path"`, 'space after the brace'],
    [`${head('Inspect Script Lines')}{"script_name": "t.py", "start_line_number": 0`, 'line 0'],
    [`${head('Inspect Script Lines')}{"script_name": "t.py", "start_line_number": 07`, 'leading zero'],
    [`${head('Inspect Script Lines')}{"script_name": "t.py", "start_line_number": 12345`, 'five digits'],
    [`${head('Inspect Script Lines')}{"script_name": "t.py", "start_line_number": -1`, 'negative'],
    [`${head('Inspect Script Lines')}{"script_name": "t.py", "start_line_number": 1.5`, 'fraction'],
    [`${head('Inspect Script Lines')}{"script_name": "t.py", "start_line_number": 40, "end_line_number": 39}`, 'end before start'],
    [`${head('Inspect Script Lines')}{"script_name": "t.py", "start_line_number": 9999, "end_line_number": 1000`, 'end can no longer reach start'],
    [`${head('Edit Script')}{"script_name": "t.py", "edits": []`, 'no edits'],
    [`${head('Edit Script')}{"script_name": "t.py", "edits": [{"old": ""`, 'empty old'],
    [`${head('Edit Script')}{"script_name": "t.py", "edits": [{"new"`, 'keys out of order'],
  ];
  for (const [text, why] of invalid) assert.equal(run(text), DEAD, why);
  // a number may stop only once it is a valid end line
  const at = run(`${head('Inspect Script Lines')}{"script_name": "t.py", "start_line_number": 40, "end_line_number": 4`);
  assert.notEqual(at, DEAD);
  assert.equal(automaton.next(at, '}'.charCodeAt(0)), DEAD);
  assert.notEqual(automaton.next(at, '0'.charCodeAt(0)), DEAD);
});

test('dist is the exact shortest completion: zero only when accepting, and some byte always brings it one closer', { timeout: 60_000 }, () => {
  assertDistIsShortestCompletion(automaton, { numRuns: 200, seed: 1 });
});

test('a state\'s allowed tokens are exactly those whose bytes are a live path (tiny tokenizer, brute force)', { timeout: 60_000 }, () => {
  const tok = tinyTokenizer();
  const { bytes } = tokenTrie(tok);
  assert.equal(tok.decode([tok.encode('Thought: a')[0]]), Buffer.from(bytes[tok.encode('Thought: a')[0]]).toString());
  const prefixes = ['', 'Thought: the ', 'Thought: ok\nAction: ', 'Thought: ok\nAction: Edit Script', `${head('Edit Script')}{"script_name": "a.py", "edits": [{"old": "x"}`.slice(0, -2),
    `${head('Inspect Script Lines')}{"script_name": "t.py", "start_line_number": 12, "end_line_number": `, `${head('Final Answer')}{"final_answer": "done`];
  for (const prefix of prefixes) {
    const r = new ConstrainedResponse({ tokenizer: tok, options: {}, maxNewTokens: 10_000 });
    for (const id of tok.encode(prefix)) r.takeToken(id);
    const state = run(prefix);
    const brute = bytes.flatMap((b, id) => {
      if (b.length === 0) return [];
      let s = state;
      for (const x of b) if ((s = automaton.next(s, x)) === DEAD) return [];
      return [id];
    });
    assert.deepEqual([...r.allowed().ids].sort((a, b) => a - b), brute, JSON.stringify(prefix));
    assert.ok(brute.length > 0);
  }
});

test('every constrained generation of a random tiny model parses and satisfies its action\'s schema; text is the tokens\' decoding', { timeout: 240_000 }, () => {
  const tok = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tok.vocabSize }), 11);
  const prompts = ['Research problem: forecast co2.\nRespond with Thought, Action, Action Input.', 'Observation: train.py printed validation mae 1.23'];
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1e6 }),
      fc.constantFrom(0, 0.7, 1, 1.5),
      fc.integer({ min: 1, max: 180 }), // prompt + maxNewTokens within the tiny model's 256 positions
      fc.integer({ min: 0, max: 40 }),
      fc.option(fc.integer({ min: 1, max: 60 })),
      fc.subarray(ACTION_NAMES as ActionName[], { minLength: 1 }),
      (seed, temperature, tokens, maxThoughtTokens, maxInputTokens, actions) => {
        // enough for the shortest response of these actions (one byte per token at worst) and end-of-turn, often just enough
        const maxNewTokens = Math.max(tokens, new ResponseAutomaton(responseProgram(actions)).dist(automaton.start) + 1);
        const gens = generate(model, tok, prompts, { seed, temperature, maxNewTokens, decoding: 'constrained', constraint: { actions, maxThoughtTokens, maxInputTokens: maxInputTokens ?? undefined } });
        for (const g of gens) {
          const parsed = parseResponse(g.text);
          assert.ok(parsed.ok, `${JSON.stringify(g.text)}: ${parsed.ok || parsed.error}`);
          assert.ok(actions.includes(parsed.action.name));
          assert.equal(g.stop, 'eos');
          assert.equal(g.text, tok.decode(g.tokens));
          assert.ok(g.tokens.length + 1 <= maxNewTokens, 'end-of-turn within maxNewTokens');
          assert.equal(g.logprobs.length, g.tokens.length);
          assert.ok(g.logprobs.every((lp) => lp <= 1e-6 && Number.isFinite(lp)));
        }
        return true;
      },
    ),
    { numRuns: 25, seed: 7 },
  );
  model.dispose();
});

test('reported log-probs are those of the masked, renormalised distribution; a too small maxNewTokens ends unfinished, not in an error', { timeout: 120_000 }, () => {
  const tok = tinyTokenizer();
  const model = Qwen2Model.init(tinyConfig({ vocab_size: tok.vocabSize }), 5);
  const prompts = ['Research problem: classify digits.', 'Observation: the script has been executed.'];
  const constraint = { maxThoughtTokens: 8, maxInputTokens: 30 };
  const gens = generate(model, tok, prompts, { seed: 3, temperature: 1, maxNewTokens: 150, decoding: 'constrained', constraint });
  const pairs = gens.map((g, i) => ({ prompt: tok.encode(prompts[i]), continuation: g.tokens }));
  const masked = scoreResponses(model, pairs, new DecodingMasks(tok, maskReplays({ maxNewTokens: 150, decoding: 'constrained', constraint }, 1)[0]!)).logprobs;
  const unmasked = continuationLogProbs(model, pairs);
  gens.forEach((g, i) => g.logprobs.forEach((lp, k) => {
    assert.ok(Math.abs(lp - masked[i][k]) < 1e-3, `row ${i} token ${k}: generated ${lp}, rescored ${masked[i][k]}`);
    // renormalising over the allowed tokens can only raise a token's log-prob: PPO's unmasked scores differ by this
    assert.ok(unmasked[i][k] <= masked[i][k] + 1e-3);
  }));
  const short = generate(model, tok, prompts, { seed: 3, maxNewTokens: 20, decoding: 'constrained' });
  for (const g of short) assert.equal(g.stop, 'length');
  model.dispose();
});
