import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ArtifactStore } from '../../activities/artifact-store';
import { initBackend } from '../../model/backend';
import { ChatTemplate } from '../../model/chat-template';
import { getCheckpoint, modelFromFiles } from '../../model/checkpoint';
import { generate } from '../../model/generate';
import { loadModelRecord } from '../../model/model-registry';

before(async () => { await initBackend(); });

test('the imported default model answers a chat-templated question (greedy): Paris', { timeout: 300_000 }, async () => {
  const record = await loadModelRecord('smollm2-135m-instruct');
  assert.ok(record, 'model smollm2-135m-instruct is not imported under MLAGENT_HOME: run `make setup` (scripts/setup.d/55-default-model.sh)');
  const files = await getCheckpoint(new ArtifactStore(), record.checkpoint);
  const { model, tokenizer } = modelFromFiles(files, record.name);
  const template = ChatTemplate.fromCheckpoint(files, record.name);
  assert.ok(template, 'the checkpoint carries its chat template');
  const prompt = template.render([{ role: 'user', content: 'What is the capital of France?' }], { addGenerationPrompt: true });
  const [g] = generate(model, tokenizer, [prompt], { maxNewTokens: 32, temperature: 0, stopAtActionInput: false });
  console.log(`# ${JSON.stringify(g.text)} (${g.tokens.length} tokens, stop: ${g.stop})`);
  assert.match(g.text, /Paris/);
  assert.equal(g.stop, 'eos', 'the answer ends with the model\'s end-of-turn token <|im_end|>');
  model.dispose();
});
