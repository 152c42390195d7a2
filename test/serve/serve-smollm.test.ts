/**
 * `mlagent serve` with no CHECKPOINT: the imported default (SmolLM2-135M-Instruct, installed by `make setup`),
 * found by the normal MLAGENT_HOME lookup, answering through the project's LLM client. Short answers keep it
 * to seconds of decoding (a few tokens a second on 2 cores).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LlmClient } from '../../activities/llm/client';
import { DEFAULT_BASE_MODEL } from '../../model/sft-params';
import { startServeCli } from './tiny-policy';

test('the default pretrained model answers a question sensibly, with finish reason and usage', { timeout: 300_000 }, async () => {
  const cli = await startServeCli({ args: [] });
  try {
    assert.equal(cli.id, DEFAULT_BASE_MODEL);
    const client = new LlmClient({ baseUrl: cli.baseUrl, model: cli.id, timeoutMs: 120_000 });
    const r = await client.chat({ messages: [{ role: 'user', content: 'What is the capital of France?' }], temperature: 0, maxTokens: 12 });
    assert.match(r.content, /Paris/);
    assert.equal(r.finishReason, 'stop', `ended at its end-of-turn within 12 tokens: ${JSON.stringify(r.content)}`);
    assert.ok(r.usage.promptTokens > 20, 'the prompt went through the model\'s chat template (system turn included)');
    assert.ok(r.usage.completionTokens > 2 && r.usage.completionTokens <= 12, `completion tokens ${r.usage.completionTokens}`);
    assert.equal(r.usage.totalTokens, r.usage.promptTokens + r.usage.completionTokens);
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});
