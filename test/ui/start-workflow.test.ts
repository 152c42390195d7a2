import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { presetFile } from '../../cli/pipeline-config';
import { failureMessage } from '../../core/failure-message';
import { ORCHESTRATOR_QUEUE } from '../../core/queues';
import { freePort } from '../../temporal-config/local-server';
import type { PipelineResult } from '../../workflows/pipeline';
import { startModelWorkerProcess, startTestStack, type TestStack } from '../helpers/stack';

/** Debian's chromium (scripts/apt-packages.d/ui-test.txt); playwright-core downloads no browser of its own. */
const CHROMIUM = '/usr/bin/chromium';

let stack: TestStack;
let modelWorker: ChildProcess;
let browser: Browser;
let uiPort: number;

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: run \`make setup\` (installs Debian's chromium)`);
  uiPort = await freePort();
  stack = await startTestStack({ uiPort });
  modelWorker = startModelWorkerProcess(stack);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  modelWorker?.kill('SIGKILL');
  await stack?.stop();
});

test('the Temporal UI Start Workflow form with the smoke config starts trainPipeline, and the run completes', { timeout: 1_100_000 }, async () => {
  const workflowId = `ui-smoke-${Date.now()}`;
  const page = await browser.newPage();
  // The UI comes up a little after the server's gRPC port answers.
  const startPage = `http://127.0.0.1:${uiPort}/namespaces/${stack.namespace}/workflows/start-workflow`;
  for (let tries = 0; ; tries++) {
    const res = await page.goto(startPage, { waitUntil: 'networkidle' }).catch(() => null);
    if (res?.ok()) break;
    if (tries > 120) assert.fail(`Temporal UI did not answer at ${startPage}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await page.fill('#workflowId', workflowId);
  await page.fill('#taskQueue', ORCHESTRATOR_QUEUE);
  await page.fill('#workflowType', 'trainPipeline');
  await page.click('.cm-content');
  await page.keyboard.insertText(fs.readFileSync(presetFile('smoke'), 'utf8'));
  await page.click('h1'); // the editor reformats the JSON when it loses focus; submit after that
  const started = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes(`/workflows/${workflowId}`));
  await page.getByRole('button', { name: 'Start Workflow' }).click();
  assert.equal((await started).status(), 200, 'the UI started the workflow');

  const handle = stack.env.client.workflow.getHandle(workflowId);
  assert.equal((await handle.describe()).type, 'trainPipeline');
  const res = (await handle.result().catch((err: unknown) => assert.fail(`smoke pipeline failed: ${failureMessage(err)}`))) as PipelineResult;
  assert.equal(res.stopped, false);
  assert.ok(res.collect && res.sft && res.ppo && res.evaluate, 'every stage of the smoke config ran');
  assert.equal(res.collect.episodes.length, 2);
  await page.close();
});
