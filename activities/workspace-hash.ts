import { createHash } from 'node:crypto';
import { extract } from 'tar-stream';
import { Readable } from 'node:stream';

/** Files a script run writes or the environment keeps for itself: they do not define what the code computes. */
const NOT_INPUTS = [/^submission\.csv$/, /^\.backup\//, /(^|\/)__pycache__\//];

/**
 * Hash of a workspace snapshot's inputs (paths + contents, sorted), ignoring outputs: two workspaces
 * with the same code and data get the same hash, whatever a previous run left behind.
 */
export async function workspaceContentHash(tar: Buffer): Promise<string> {
  const files: [string, string][] = [];
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    const h = createHash('sha256');
    stream.on('data', (c: unknown) => void h.update(c as Buffer));
    stream.on('end', () => {
      if (header.type === 'file' && !NOT_INPUTS.some((re) => re.test(name))) files.push([name, h.digest('hex')]);
      next();
    });
    stream.resume();
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    Readable.from(tar).pipe(ex);
  });
  files.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(files.map(([n, h]) => `${n}\0${h}\n`).join('')).digest('hex');
}
