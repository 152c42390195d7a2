import fs from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { extract } from 'tar-stream';
import { ArtifactStore } from './artifact-store';

/**
 * Garbage collection of the artifact store. The rule (RELIABILITY.md):
 * - only tars are collected: workspace snapshots and checkpoints, the bulk of the store; records (trajectories,
 *   states pools, datasets, loss curves, metric logs: JSON/JSONL) are never collected and count as roots;
 * - an object is kept when it is younger than the age limit, or was written after the start of a workflow that is
 *   still running (its refs may live only in Temporal: heartbeats, activity results);
 * - or when a root references it, directly or through kept objects: the model registry, the results of the
 *   workflows Temporal still holds, every record in the store, and the JSON files inside kept tars (a LoRA
 *   checkpoint names its base).
 * References are found as 64-hex sha256 strings, so any format that records a ref keeps its object.
 */
export type GcCandidate = { sha256: string; bytes: number; modifiedMs: number };
export type GcPlan = { remove: GcCandidate[]; kept: { young: number; referenced: number; records: number } };

const SHA256 = /[0-9a-f]{64}/g;

export function refsIn(text: string): string[] {
  return text.match(SHA256) ?? [];
}

/** What Temporal knows: refs in completed workflows' results, and the earliest start of a running workflow. */
export async function temporalRoots(client: Client): Promise<{ refs: Set<string>; runningSinceMs?: number }> {
  const refs = new Set<string>();
  let runningSinceMs: number | undefined;
  for await (const wf of client.workflow.list()) {
    if (wf.status.name === 'RUNNING') runningSinceMs = Math.min(runningSinceMs ?? Infinity, wf.startTime.getTime());
    else if (wf.status.name === 'COMPLETED') {
      const result: unknown = await client.workflow.getHandle(wf.workflowId, wf.runId).result();
      for (const r of refsIn(JSON.stringify(result ?? null))) refs.add(r);
    }
  }
  return { refs, runningSinceMs };
}

async function objects(store: ArtifactStore): Promise<(GcCandidate & { file: string })[]> {
  const dir = path.join(store.root, 'objects');
  const out: (GcCandidate & { file: string })[] = [];
  for (const prefix of await fs.readdir(dir).catch(() => [] as string[])) {
    for (const name of await fs.readdir(path.join(dir, prefix))) {
      const file = path.join(dir, prefix, name);
      const st = await fs.stat(file);
      out.push({ sha256: name, bytes: st.size, modifiedMs: st.mtimeMs, file });
    }
  }
  return out;
}

async function isTar(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    return bytesRead === 512 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

/** The JSON files of a tar (a checkpoint's config, trainer state, adapter config), concatenated. */
async function jsonMembers(file: string): Promise<string> {
  const parts: string[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      const keep = header.name.endsWith('.json');
      stream.on('data', (c) => { if (keep) chunks.push(c as Buffer); });
      stream.on('end', () => { if (keep) parts.push(Buffer.concat(chunks).toString('utf8')); next(); });
      stream.on('error', reject);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(await fs.readFile(file));
  await done;
  return parts.join('\n');
}

export async function planGc(p: { store: ArtifactStore; olderThanMs: number; roots: Iterable<string>; runningSinceMs?: number; nowMs?: number }): Promise<GcPlan> {
  const cutoff = Math.min((p.nowMs ?? Date.now()) - p.olderThanMs, p.runningSinceMs ?? Infinity);
  const all = await objects(p.store);
  const tars = new Map<string, (typeof all)[number]>();
  const keep = new Set<string>();
  const pending: string[] = [];
  const visit = (sha: string) => {
    if (!keep.has(sha)) { keep.add(sha); pending.push(sha); }
  };
  let records = 0;
  for (const o of all) {
    if (await isTar(o.file)) tars.set(o.sha256, o);
    else { records++; visit(o.sha256); }
  }
  let young = 0;
  for (const o of tars.values()) if (o.modifiedMs >= cutoff) { young++; visit(o.sha256); }
  for (const r of p.roots) visit(r);
  const byHash = new Map(all.map((o) => [o.sha256, o]));
  while (pending.length) {
    const o = byHash.get(pending.pop()!);
    if (!o) continue; // a root naming something no longer (or never) stored
    const text = tars.has(o.sha256) ? await jsonMembers(o.file) : await fs.readFile(o.file, 'utf8');
    for (const r of refsIn(text)) visit(r);
  }
  const remove = [...tars.values()].filter((o) => !keep.has(o.sha256)).map(({ sha256, bytes, modifiedMs }) => ({ sha256, bytes, modifiedMs }));
  return { remove, kept: { young, referenced: tars.size - remove.length - young, records } };
}

/** Removes the plan's objects; one written again since the plan was made (a fresh put) stays. */
export async function applyGc(store: ArtifactStore, plan: GcPlan): Promise<{ removed: number; bytes: number }> {
  let removed = 0;
  let bytes = 0;
  for (const o of plan.remove) {
    const file = store.pathOf(o);
    const st = await fs.stat(file).catch(() => undefined);
    if (!st || st.mtimeMs !== o.modifiedMs) continue;
    await fs.rm(file);
    removed++;
    bytes += o.bytes;
  }
  return { removed, bytes };
}
