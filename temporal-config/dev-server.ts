import path from 'node:path';
import type { Connection } from '@temporalio/client';
// The SDK's own SearchAttributeType → proto IndexedValueType mapping (not re-exported from the package index).
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
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

/**
 * Registers the project's search attributes the namespace lacks. `start-dev --search-attribute` registers them only
 * when it creates the SQLite file, so a stack kept from an older version would lack newer keys, and every workflow
 * task upserting one would fail (BadSearchAttributes) and retry forever. Returns the names it added.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !(k.name in (customAttributes ?? {})));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])),
  });
  return missing.map((k) => k.name);
}
