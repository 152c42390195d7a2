import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ArtifactStore } from '../../activities/artifact-store';

const tmpStore = () => new ArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-store-')));

test('put returns a content-addressed ref whose bytes read back; identical content is stored once', async () => {
  const store = tmpStore();
  const ref = await store.put('hello', 'note');
  assert.deepEqual(ref, { sha256: createHash('sha256').update('hello').digest('hex'), size: 5, kind: 'note' });
  assert.equal((await store.get(ref)).toString(), 'hello');
  assert.deepEqual(await store.put(Buffer.from('hello'), 'note'), ref);
  const objects = fs.readdirSync(path.join(store.root, 'objects'), { recursive: true }).filter((f) => String(f).includes(ref.sha256));
  assert.equal(objects.length, 1);
  assert.deepEqual(fs.readdirSync(path.join(store.root, 'tmp')), [], 'no temp files are left behind');
  assert.deepEqual(await store.getJson(await store.putJson({ a: [1, 2] }, 'json')), { a: [1, 2] });
});

test('a missing or corrupt artifact is a non-retryable failure naming the ref', async () => {
  const store = tmpStore();
  const missing = { sha256: 'a'.repeat(64), size: 1, kind: 'dataset' };
  await assert.rejects(store.get(missing), (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable && err.type === 'ArtifactMissing' && err.message.includes('a'.repeat(64)));
  const ref = await store.put('original', 'note');
  fs.writeFileSync(store.pathOf(ref), 'tampered');
  await assert.rejects(store.get(ref), (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable && err.type === 'ArtifactCorrupt');
  // A damaged copy is replaced by the next put of the same content.
  await store.put('original', 'note');
  assert.equal((await store.get(ref)).toString(), 'original');
});
