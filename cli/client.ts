import { Client, Connection } from '@temporalio/client';
import { temporalSettings } from '../temporal-config/connection';
import { DEV_SERVER } from '../temporal-config/dev-server';
import { devUp } from './dev-stack';

/** True when the CLI talks to the local dev stack (no TEMPORAL_ADDRESS pointing elsewhere). */
export function usesLocalStack(): boolean {
  return !process.env.TEMPORAL_ADDRESS;
}

/** A client for the configured cluster; on the local default, brings the dev stack up first. */
export async function connectClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  if (usesLocalStack()) await devUp();
  const s = temporalSettings();
  const connection = await Connection.connect({ address: s.address, tls: s.tls });
  return { client: new Client({ connection, namespace: s.namespace }), close: () => connection.close() };
}

export function workflowUiUrl(p: { namespace: string; workflowId: string }): string {
  const base = usesLocalStack() ? `http://localhost:${DEV_SERVER.uiPort}` : (process.env.TEMPORAL_UI_URL ?? `http://localhost:${DEV_SERVER.uiPort}`);
  return `${base}/namespaces/${encodeURIComponent(p.namespace)}/workflows/${encodeURIComponent(p.workflowId)}`;
}
