import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { ArtifactRef } from '../core/artifact-ref';
import { mlagentHome } from '../core/home';

/**
 * Content-addressed store: bytes live at objects/<aa>/<sha256>. Writes go to a temp file, are fsynced,
 * hash-checked and renamed into place, so a returned ref always points at durable, complete bytes.
 * Identical content is stored once (snapshots deduplicate for free).
 */
export class ArtifactStore {
  constructor(readonly root: string = path.join(mlagentHome(), 'artifacts')) {}

  pathOf(ref: Pick<ArtifactRef, 'sha256'>): string {
    return path.join(this.root, 'objects', ref.sha256.slice(0, 2), ref.sha256);
  }

  async put(data: Buffer | string, kind: string): Promise<ArtifactRef> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const ref = ArtifactRef.parse({ sha256, size: bytes.length, kind });
    const dest = this.pathOf(ref);
    if (await this.isIntact(ref)) {
      // The mtime is the last put: garbage collection keeps what was stored or re-stored recently (artifact-gc.ts).
      const now = new Date();
      await fs.utimes(dest, now, now);
      return ref;
    }
    await fs.mkdir(path.dirname(dest), { recursive: true });
    const tmp = path.join(this.root, 'tmp', `${sha256}.${randomBytes(6).toString('hex')}`);
    await fs.mkdir(path.dirname(tmp), { recursive: true });
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const written = createHash('sha256').update(await fs.readFile(tmp)).digest('hex');
    if (written !== sha256) {
      await fs.rm(tmp, { force: true });
      throw new Error(`artifact store: hash mismatch after writing ${kind} (${written} != ${sha256})`);
    }
    await fs.rename(tmp, dest);
    await syncDir(path.dirname(dest));
    return ref;
  }

  async putJson(value: unknown, kind: string): Promise<ArtifactRef> {
    return this.put(JSON.stringify(value), kind);
  }

  async get(ref: ArtifactRef): Promise<Buffer> {
    // Missing or corrupt bytes will not heal by retrying: non-retryable, so a bad ref fails its run at once.
    const bytes = await fs.readFile(this.pathOf(ref)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        throw ApplicationFailure.create({ message: `artifact ${ref.kind} ${ref.sha256} is not in the store at ${this.root}`, type: 'ArtifactMissing', nonRetryable: true });
      }
      throw err;
    });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== ref.sha256) {
      throw ApplicationFailure.create({ message: `artifact ${ref.kind} ${ref.sha256} is corrupt on disk (hash ${sha256})`, type: 'ArtifactCorrupt', nonRetryable: true });
    }
    return bytes;
  }

  async getJson<T = unknown>(ref: ArtifactRef): Promise<T> {
    return JSON.parse((await this.get(ref)).toString('utf8')) as T;
  }

  /** Present with the right bytes (a damaged copy is rewritten by the put that finds it). */
  private async isIntact(ref: ArtifactRef): Promise<boolean> {
    const bytes = await fs.readFile(this.pathOf(ref)).catch(() => undefined);
    return bytes !== undefined && bytes.length === ref.size && createHash('sha256').update(bytes).digest('hex') === ref.sha256;
  }

}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
