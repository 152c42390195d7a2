import * as fs from 'node:fs';

/**
 * The line a process using the policy model logs once its tfjs backend is chosen (`initBackend`), naming the
 * backend, the device and the allocator; `mlagent dev status` shows the model worker's latest from its log. No
 * tfjs import here, so reading it costs the CLI nothing.
 */
const PREFIX = '[model] tfjs backend: ';

export function backendLine(backend: string, device: 'GPU' | 'CPU', malloc: string): string {
  return `${PREFIX}${backend} on ${device}, malloc ${malloc}`;
}

/** The allocator this process runs on: tcmalloc when cli/bin.js preloaded it, else the C library's. */
export function mallocName(): 'tcmalloc' | 'glibc' {
  try {
    return fs.readFileSync('/proc/self/maps', 'utf8').includes('libtcmalloc') ? 'tcmalloc' : 'glibc';
  } catch {
    return 'glibc';
  }
}

/** "<backend> on <device>" of the last such line in a log, or undefined when there is none. */
export function lastBackendLine(log: string): string | undefined {
  const at = log.lastIndexOf(PREFIX);
  return at < 0 ? undefined : log.slice(at + PREFIX.length).split('\n')[0].trim();
}
