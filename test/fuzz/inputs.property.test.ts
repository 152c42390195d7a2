import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ApplicationFailure } from '@temporalio/common';
import { readTaskFile } from '../../activities/tasks/registry';
import { ACTION_NAMES, ActionInputs, type ActionName } from '../../core/actions';
import { CollectInput } from '../../core/collect-schema';
import { EpisodeInput } from '../../core/episode-schema';
import { EvaluateInput } from '../../core/evaluation';
import { GenerateIdeasInput } from '../../core/ideas';
import { formatResponse, parseResponse } from '../../core/parse-response';
import { PipelineInput } from '../../core/pipeline-schema';
import { PpoInput } from '../../core/ppo-schema';
import { computeReward } from '../../core/reward';
import { parseModelConfig } from '../../model/config';
import { SftInput } from '../../model/sft-params';
import { parseWorkflowInput } from '../../workflows/validate-input';

// Fixed seed: a failure names the counterexample and reruns identically; numRuns keeps each property < 1 s.
const RUNS = { seed: 20261201, numRuns: 2000 };

const responseText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.record({
    thought: fc.string({ maxLength: 60 }),
    name: fc.oneof(fc.constantFrom(...ACTION_NAMES), fc.string({ maxLength: 20 })),
    input: fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ maxLength: 80 }), fc.constant('{"script_name": "train.py"'), fc.constant('{"a": "}"}')),
    tail: fc.string({ maxLength: 40 }),
  }).map((r) => `Thought: ${r.thought}\nAction: ${r.name}\nAction Input: ${r.input}${r.tail}`),
  // Well-formed actions with arbitrary field text (quotes, newlines, unicode) must parse back.
  fc.record({ file: fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }), thought: fc.string({ maxLength: 40 }) })
    .map((r) => formatResponse({ thought: r.thought.replace(/Action:/g, ''), action: { name: 'Read File', input: { file_name: r.file } } })),
);

test('the response parser never throws: any text is a schema-valid action or a specific error, and garbage scores 0', { timeout: 60_000 }, () => {
  let parsed = 0;
  fc.assert(
    fc.property(responseText, (text) => {
      const r = parseResponse(text);
      if (r.ok) {
        parsed++;
        assert.ok(ActionInputs[r.action.name].safeParse(r.action.input).success, 'a parsed action satisfies its schema');
        const again = parseResponse(formatResponse(r));
        assert.ok(again.ok);
        assert.deepEqual(again.action, r.action, 'format → parse round-trips');
      } else {
        assert.match(r.error, /action|json|input/i, `a specific error, got: ${r.error}`);
        assert.equal(computeReward({ action_kind: 'invalid' }).reward, 0);
      }
    }),
    RUNS,
  );
  assert.ok(parsed > RUNS.numRuns / 10, `valid actions were generated too (${parsed})`);
});

test('every action input schema rejects random JSON with a message naming the field, and never throws', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fc.constantFrom(...ACTION_NAMES), fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue(), { maxKeys: 4 }), (name: ActionName, input) => {
      const r = parseResponse(`Action: ${name}\nAction Input: ${JSON.stringify(input)}`);
      if (!r.ok) assert.match(r.error, new RegExp(`invalid Action Input for "${name.replace(/[()]/g, '\\$&')}": \\S`), r.error);
    }),
    RUNS,
  );
});

const WORKFLOW_INPUTS = { runEpisode: EpisodeInput, generateIdeas: GenerateIdeasInput, collectTrajectories: CollectInput, sft: SftInput, trainPipeline: PipelineInput, evaluate: EvaluateInput, ppo: PpoInput };

test('every workflow input schema turns random JSON into success or one non-retryable failure naming fields', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fc.constantFrom(...Object.keys(WORKFLOW_INPUTS)), fc.jsonValue(), (workflow, raw) => {
      try {
        parseWorkflowInput(WORKFLOW_INPUTS[workflow as keyof typeof WORKFLOW_INPUTS], raw, workflow);
      } catch (err) {
        assert.ok(err instanceof ApplicationFailure, `threw ${String(err)}`);
        assert.equal(err.nonRetryable, true);
        assert.equal(err.type, 'InvalidInput');
        assert.match(err.message, new RegExp(`^invalid ${workflow} input: \\S+: `));
      }
    }),
    RUNS,
  );
});

/** Mutations of a real task.json: drop a key, retype a value, or replace the whole document. */
const taskMutation = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), key: fc.constantFrom('name', 'split', 'metric', 'publicFiles', 'm_init', 'provenance', 'researchProblem') }),
  fc.record({ kind: fc.constant('retype' as const), key: fc.constantFrom('split', 'metric', 'scriptTimeoutSec', 'm_best', 'publicFiles', 'type'), value: fc.jsonValue() }),
  fc.record({ kind: fc.constant('replace' as const), text: fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue().map((v) => JSON.stringify(v))) }),
);

test('the task loader rejects malformed task.json files with the file and the field named', { timeout: 120_000 }, () => {
  const real = JSON.parse(fs.readFileSync(path.join(__dirname, '../../tasks/co2/task.json'), 'utf8')) as Record<string, unknown>;
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-fuzz-task-')), 'co2');
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(__dirname, '../../tasks/co2/export.py'), path.join(dir, 'export.py'));
  const file = path.join(dir, 'task.json');
  fs.writeFileSync(file, JSON.stringify(real));
  assert.equal(readTaskFile(file).name, 'co2', 'the unmutated file loads');
  try {
    fc.assert(
      fc.property(taskMutation, (m) => {
        const doc = { ...real };
        if (m.kind === 'drop') delete doc[m.key];
        if (m.kind === 'retype') doc[m.key] = m.value;
        fs.writeFileSync(file, m.kind === 'replace' ? m.text : JSON.stringify(doc));
        try {
          readTaskFile(file);
        } catch (err) {
          assert.ok(err instanceof Error);
          assert.ok(err.message.startsWith(`${file}: `), err.message);
          if (m.kind === 'drop') assert.match(err.message, new RegExp(m.key), err.message);
          return;
        }
        // Only a retype that happens to be valid (e.g. another legal split) may load.
        assert.equal(m.kind, 'retype', `mutation ${JSON.stringify(m)} was accepted`);
      }),
      RUNS,
    );
  } finally {
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }
});

test('model config.json loading rejects random configs with a message naming the field', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fc.jsonValue(), (raw) => {
      try {
        parseModelConfig(raw, 'config.json');
      } catch (err) {
        assert.match(String((err as Error).message), /^invalid model config\.json: \S/);
      }
    }),
    RUNS,
  );
});
