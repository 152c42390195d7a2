import fs from 'node:fs';
import { z } from 'zod';
import { DEV_SERVER } from './dev-server';
import { describeIssues } from '../core/zod-issues';

/** Production connection settings come from the environment; the defaults point at `mlagent dev up`. */
const TemporalEnv = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('mlagent'),
  TEMPORAL_TLS_CERT: z.string().optional(),
  TEMPORAL_TLS_KEY: z.string().optional(),
  TEMPORAL_TLS_CA: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
});

export interface TemporalSettings {
  address: string;
  namespace: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const parsed = TemporalEnv.safeParse(env);
  if (!parsed.success) throw new Error(`bad Temporal settings: ${describeIssues(parsed.error)}`);
  const e = parsed.data;
  if (Boolean(e.TEMPORAL_TLS_CERT) !== Boolean(e.TEMPORAL_TLS_KEY)) {
    throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together (mTLS client certificate and its key)');
  }
  const useTls = Boolean(e.TEMPORAL_TLS_CERT || e.TEMPORAL_TLS_CA || e.TEMPORAL_TLS_SERVER_NAME);
  return {
    address: e.TEMPORAL_ADDRESS ?? `127.0.0.1:${DEV_SERVER.port}`,
    namespace: e.TEMPORAL_NAMESPACE,
    tls: useTls
      ? {
          serverNameOverride: e.TEMPORAL_TLS_SERVER_NAME,
          serverRootCACertificate: e.TEMPORAL_TLS_CA ? readFile(e.TEMPORAL_TLS_CA, 'TEMPORAL_TLS_CA') : undefined,
          clientCertPair:
            e.TEMPORAL_TLS_CERT && e.TEMPORAL_TLS_KEY
              ? { crt: readFile(e.TEMPORAL_TLS_CERT, 'TEMPORAL_TLS_CERT'), key: readFile(e.TEMPORAL_TLS_KEY, 'TEMPORAL_TLS_KEY') }
              : undefined,
        }
      : undefined,
  };
}

function readFile(file: string, envName: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${envName}=${file}: ${(err as Error).message}`);
  }
}
