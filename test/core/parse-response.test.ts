import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatResponse, parseResponse } from '../../core/parse-response';

test('a well-formed response parses into the action and its validated input', () => {
  const r = parseResponse('Thought: look around\nAction: List Files\nAction Input: {"dir_path": "."}\nsome trailing prose');
  assert.deepEqual(r, { ok: true, thought: 'look around', action: { name: 'List Files', input: { dir_path: '.' } } });
});

test('format and parse round-trip, including JSON with braces inside strings', () => {
  const action = { name: 'Edit Script' as const, input: { script_name: 'train.py', edits: [{ old: 'a = {1: 2}', new: 'a = {"}": 3}' }] } };
  const r = parseResponse(formatResponse({ thought: 't', action }));
  assert.ok(r.ok);
  assert.deepEqual(r.action, action);
});

test('invalid responses become specific feedback, never exceptions', () => {
  const cases: [string, RegExp][] = [
    ['just chatting', /no "Action:" line/],
    ['Action: Fly\nAction Input: {}', /unknown action "Fly"; valid actions: List Files/],
    ['Action: Read File', /no "Action Input:"/],
    ['Action: Read File\nAction Input: file_name=train.py', /not a JSON object/],
    ['Action: Read File\nAction Input: {"file_name": train.py}', /not valid JSON/],
    ['Action: Read File\nAction Input: {"path": "train.py"}', /invalid Action Input for "Read File": .*file_name/],
    ['Action: Inspect Script Lines\nAction Input: {"script_name": "a.py", "start_line_number": 9, "end_line_number": 2}', /end_line_number must be >= start_line_number/],
    ['Action: Edit Script\nAction Input: {"script_name": "a.py", "edits": []}', /edits/],
  ];
  for (const [text, re] of cases) {
    const r = parseResponse(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.error, re, text);
  }
});
