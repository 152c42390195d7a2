import path from 'node:path';

/** Root of everything mlagent writes on this host (artifacts, dev server DB, logs, pid files). */
export function mlagentHome(): string {
  return path.resolve(process.env.MLAGENT_HOME ?? path.join(process.cwd(), '.mlagent'));
}
