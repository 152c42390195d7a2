import path from 'node:path';
import { ALL_SEARCH_ATTRIBUTES } from '../core/search-attributes';

/** Ports of the local dev server; MLAGENT_DEV_PORT / MLAGENT_DEV_UI_PORT move them (a second stack, tests). */
export const DEV_SERVER = {
  port: Number(process.env.MLAGENT_DEV_PORT ?? 7233),
  uiPort: Number(process.env.MLAGENT_DEV_UI_PORT ?? 8233),
  namespace: 'mlagent',
} as const;

/**
 * Dynamic config the project relies on: workflow updates (used by the CLI to steer runs) and a
 * 2 MiB payload error limit that matches the design's "refs, never data" rule.
 */
const DYNAMIC_CONFIG = ['frontend.enableUpdateWorkflowExecution=true', 'limit.blobSize.error=2097152', 'limit.blobSize.warn=524288'];

/** `temporal server start-dev` arguments: SQLite file under MLAGENT_HOME, namespace, UI port, search attributes. */
export function devServerArgs(p: { home: string }): string[] {
  const sa = ALL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${k.type}`]);
  return [
    'server', 'start-dev',
    '--db-filename', path.join(p.home, 'temporal.sqlite'),
    '--namespace', DEV_SERVER.namespace,
    '--port', String(DEV_SERVER.port),
    '--ui-port', String(DEV_SERVER.uiPort),
    '--ip', '127.0.0.1',
    '--log-level', 'warn',
    ...sa,
    ...DYNAMIC_CONFIG.flatMap((v) => ['--dynamic-config-value', v]),
  ];
}
