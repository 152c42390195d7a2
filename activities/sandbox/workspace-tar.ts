import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

/** One workspace entry; `path` is relative to the workspace root, POSIX separators, no trailing slash. */
export interface WorkspaceEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  data: Buffer;
  linkname?: string;
}

/** The sandbox user: every file in a workspace tar belongs to it, whoever wrote it. */
export const AGENT_UID = 1000;
// Fixed mtime for every entry. Not the epoch: Python's zipfile rejects timestamps before 1980.
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

/** Rejects paths that are absolute or climb out of the workspace; returns the normalized relative path. */
export function checkRelativePath(rel: string): string {
  const norm = path.posix.normalize(rel.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (rel === '' || norm === '.') return '';
  if (path.posix.isAbsolute(norm) || norm === '..' || norm.startsWith('../')) {
    throw new Error(`workspace path must be relative and stay inside the workspace: '${rel}'`);
  }
  return norm;
}

/** A raw tar entry with its content. */
export interface RawTarEntry {
  name: string;
  header: tar.Header;
  data: Buffer;
}

/** Reads every entry of a tar. Hard links become copies of their target, so inode layout cannot change the result. */
export async function readTar(input: Buffer | NodeJS.ReadableStream): Promise<RawTarEntry[]> {
  const extract = tar.extract();
  const source = Buffer.isBuffer(input) ? Readable.from([input]) : (input as Readable);
  source.on('error', (err) => extract.destroy(err));
  source.pipe(extract);
  const out: RawTarEntry[] = [];
  const byName = new Map<string, Buffer>();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const name = entry.header.name.replace(/\/+$/, '');
    let data: Buffer = Buffer.concat(chunks);
    if (entry.header.type === 'link') {
      const target = byName.get((entry.header.linkname ?? '').replace(/\/+$/, ''));
      if (!target) throw new Error(`tar: hard link ${name} points at a missing entry ${entry.header.linkname}`);
      data = target;
    }
    byName.set(name, data);
    out.push({ name, header: entry.header, data });
  }
  return out;
}

/** Converts raw tar entries to workspace entries, dropping `stripComponents` leading path parts. */
export function toWorkspaceEntries(raw: RawTarEntry[], stripComponents = 0): WorkspaceEntry[] {
  const entries: WorkspaceEntry[] = [];
  for (const { name, header, data } of raw) {
    const rel = checkRelativePath(name.split('/').slice(stripComponents).join('/'));
    if (rel === '') continue; // the workspace root itself
    const mode = (header.mode ?? 0o644) & 0o777;
    switch (header.type) {
      case 'directory':
        entries.push({ path: rel, type: 'dir', mode, data: Buffer.alloc(0) });
        break;
      case 'symlink':
        entries.push({ path: rel, type: 'symlink', mode, data: Buffer.alloc(0), linkname: header.linkname ?? '' });
        break;
      case 'file':
      case 'contiguous-file':
      case 'link':
        entries.push({ path: rel, type: 'file', mode, data });
        break;
      default:
        throw new Error(`workspace tar: unsupported entry type '${header.type}' for ${rel}`);
    }
  }
  return entries;
}

/**
 * A deterministic tar of workspace entries: sorted by path, fixed mtime, owner agent (uid/gid 1000),
 * permission bits kept. Identical workspaces give identical bytes, hence identical hashes.
 */
export async function workspaceTar(entries: WorkspaceEntry[]): Promise<Buffer> {
  const seen = new Set<string>();
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const pack = tar.pack();
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const e of sorted) {
    if (seen.has(e.path)) throw new Error(`workspace tar: duplicate entry ${e.path}`);
    seen.add(e.path);
    const header: Partial<tar.Header> & { name: string } = {
      name: e.path,
      type: e.type === 'dir' ? 'directory' : e.type,
      mode: e.mode,
      uid: AGENT_UID,
      gid: AGENT_UID,
      uname: '',
      gname: '',
      mtime: FIXED_MTIME,
      linkname: e.linkname,
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.type === 'file') pack.entry(header, e.data, done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  return collected;
}

/** Normalizes any tar (e.g. a caller's workspaceTar or a Docker archive) into the deterministic form. */
export async function normalizeTar(input: Buffer | NodeJS.ReadableStream, stripComponents = 0): Promise<Buffer> {
  return workspaceTar(toWorkspaceEntries(await readTar(input), stripComponents));
}

/** Packs a host directory as a deterministic workspace tar (symlinks kept as links, not followed). */
export async function packDirectory(dir: string): Promise<Buffer> {
  const entries: WorkspaceEntry[] = [];
  async function walk(rel: string): Promise<void> {
    for (const d of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      const abs = path.join(dir, childRel);
      const st = await fs.lstat(abs);
      const mode = st.mode & 0o777;
      if (st.isDirectory()) {
        entries.push({ path: childRel, type: 'dir', mode, data: Buffer.alloc(0) });
        await walk(childRel);
      } else if (st.isSymbolicLink()) {
        entries.push({ path: childRel, type: 'symlink', mode, data: Buffer.alloc(0), linkname: await fs.readlink(abs) });
      } else if (st.isFile()) {
        entries.push({ path: childRel, type: 'file', mode, data: await fs.readFile(abs) });
      } else {
        throw new Error(`workspaceDir: ${abs} is neither a file, a directory nor a symlink`);
      }
    }
  }
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`workspaceDir ${dir} is not a directory`);
  await walk('');
  return workspaceTar(entries);
}

/** A tar that writes one file, with entries for its parent directories so they belong to the agent. */
export async function singleFileTar(rel: string, data: Buffer): Promise<Buffer> {
  const parts = rel.split('/');
  const dirs: WorkspaceEntry[] = parts.slice(0, -1).map((_, i) => ({ path: parts.slice(0, i + 1).join('/'), type: 'dir', mode: 0o755, data: Buffer.alloc(0) }));
  return workspaceTar([...dirs, { path: rel, type: 'file', mode: 0o644, data }]);
}
