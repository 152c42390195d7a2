/**
 * `Edit Script (AI)` and `Understand File` with and without a chat model, run by `executeAction` in a real
 * Docker sandbox. The model is a tiny OpenAI-compatible HTTP server on 127.0.0.1 answering canned,
 * schema-real replies: this tests the protocol and the wiring (what is sent, what is written, what is
 * recorded), not a model's edits.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { extractCode } from '../../activities/agents/coder';
import { executeAction } from '../../activities/environment/execute-action';
import { LlmClient } from '../../activities/llm/client';
import type { Sandbox } from '../../activities/sandbox/sandbox';
import type { Action } from '../../core/actions';
import { sandboxFactory, testLabels } from '../sandbox/helpers';
import { chatReply, type FakeOpenAiServer, startFakeOpenAiServer } from './fake-openai-server';

const TRAIN = 'import pandas as pd\n\ndef main():\n    df = pd.read_csv("data.csv")\n    print(df.shape)\n\nmain()\n';
const EDITED = 'import pandas as pd\n\ndef main():\n    df = pd.read_csv("data.csv")\n    print(df.describe())\n\nmain()\n';
const USAGE = { model: 'chat-m-2025', promptTokens: 12, completionTokens: 5, totalTokens: 17 };

const sandboxes = sandboxFactory(testLabels());
let fake: FakeOpenAiServer;
let llm: LlmClient;
let sandbox: Sandbox;

before(async () => {
  fake = await startFakeOpenAiServer();
  llm = new LlmClient({ baseUrl: fake.baseUrl, model: 'chat-m', timeoutMs: 10_000 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-llm-actions-'));
  fs.writeFileSync(path.join(dir, 'train.py'), TRAIN);
  fs.writeFileSync(path.join(dir, 'data.csv'), 'x,y\n1,2\n3,4\n');
  sandbox = await sandboxes.create({ workspaceDir: dir });
});
after(async () => {
  fake.close();
  await sandboxes.cleanup();
});

const run = (action: Action, withLlm = true) => executeAction({ sandbox, action, scriptTimeoutSec: 30, llm: withLlm ? llm : undefined });
const read = async (file: string) => (await sandbox.readFile(file)).toString();
const aiEdit = (save_name = 'train.py'): Action => ({ name: 'Edit Script (AI)', input: { script_name: 'train.py', edit_instruction: 'print summary statistics instead of the shape', save_name } });

describe('Edit Script (AI)', () => {
  test('sends the instruction and the script, writes the fenced code, shows the diff, and Undo restores the script', async () => {
    fake.handle(() => ({ status: 200, body: chatReply(`Sure, here it is:\n\`\`\`python\n${EDITED}\`\`\`\nDone.`) }));
    const out = await run(aiEdit());
    assert.equal(out.kind, 'edit', out.observation);
    assert.equal(out.workspaceChanged, true);
    assert.deepEqual(out.usage, [USAGE]);
    assert.equal(await read('train.py'), EDITED);
    assert.match(out.observation, /saved to train\.py/);
    assert.match(out.observation, /- {5}print\(df\.shape\)\n\+ {5}print\(df\.describe\(\)\)/);
    const user = (fake.seen.at(-1)!.body.messages as { role: string; content: string }[]).find((m) => m.role === 'user')!.content;
    assert.match(user, /print summary statistics instead of the shape/);
    assert.ok(user.includes(TRAIN), 'the current script is sent');

    const undo = await run({ name: 'Undo Edit Script', input: { script_name: 'train.py' } });
    assert.equal(undo.kind, 'non_edit', undo.observation);
    assert.equal(await read('train.py'), TRAIN);
  });

  test('save_name other than the script: the new file holds the edit, the script is untouched', async () => {
    fake.handle(() => ({ status: 200, body: chatReply(EDITED) }));
    const out = await run(aiEdit('train_v2.py'));
    assert.equal(out.kind, 'edit', out.observation);
    assert.equal(await read('train_v2.py'), EDITED, 'a raw (unfenced) reply is taken as the code');
    assert.equal(await read('train.py'), TRAIN);
  });

  test('a reply cut off at the token limit writes nothing; its tokens are still recorded', async () => {
    const reply = chatReply('```python\nimport pandas as pd\n\ndef ma');
    reply.choices[0]!.finish_reason = 'length';
    fake.handle(() => ({ status: 200, body: reply }));
    const out = await run(aiEdit());
    assert.equal(out.kind, 'error');
    assert.match(out.observation, /cut off at its token limit/);
    assert.deepEqual(out.usage, [USAGE]);
    assert.equal(await read('train.py'), TRAIN);
  });

  test('without a coder LLM it is an agent-facing error naming the setting, and no request is made', async () => {
    const before = fake.seen.length;
    const out = await run(aiEdit(), false);
    assert.equal(out.kind, 'error');
    assert.match(out.observation, /needs a coder LLM.*MLAGENT_LLM_BASE_URL/);
    assert.equal(out.usage, undefined);
    assert.equal(fake.seen.length, before);
  });
});

describe('Understand File', () => {
  const understand: Action = { name: 'Understand File', input: { file_name: 'data.csv', things_to_look_for: 'which column is the target' } };

  test('with an LLM: the structural summary plus the answer to things_to_look_for over the content', async () => {
    fake.handle(() => ({ status: 200, body: chatReply('Column y looks like the target.') }));
    const out = await run(understand);
    assert.equal(out.kind, 'non_edit');
    assert.match(out.observation, /rows: 2 {2}columns: 2/, 'the offline summary is kept');
    assert.match(out.observation, /Answer:\nColumn y looks like the target\./);
    assert.deepEqual(out.usage, [USAGE]);
    const user = (fake.seen.at(-1)!.body.messages as { role: string; content: string }[]).find((m) => m.role === 'user')!.content;
    assert.match(user, /x,y\n1,2\n3,4/);
    assert.match(user, /Look for: which column is the target/);
  });

  test('offline: the structural summary only, saying so briefly', async () => {
    const out = await run(understand, false);
    assert.equal(out.kind, 'non_edit');
    assert.match(out.observation, /rows: 2 {2}columns: 2/);
    assert.match(out.observation, /Offline structural summary: no LLM is configured/);
    assert.equal(out.usage, undefined);
  });
});

test('extractCode: longest fenced block, an unclosed fence, or the raw reply', () => {
  assert.equal(extractCode('e.g.\n```\nx\n```\nfull file:\n```python\na = 1\nb = 2\n```'), 'a = 1\nb = 2\n');
  assert.equal(extractCode('```py\na = 1\nb ='), 'a = 1\nb =\n');
  assert.equal(extractCode('\na = 1\n\n'), 'a = 1\n');
});
