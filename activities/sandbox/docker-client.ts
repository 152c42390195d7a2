import Docker from 'dockerode';

/** Thrown when no Docker engine answers, so callers can tell "infrastructure down" from "action failed". */
export class DockerUnreachableError extends Error {
  override name = 'DockerUnreachableError';
}

/** The engine dockerode talks to: DOCKER_HOST when set (as dockerode reads it), else the default socket. */
export function dockerEndpoint(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** A client for the current DOCKER_HOST (read at call time, so a changed environment is honoured). */
export function dockerClient(): Docker {
  return new Docker();
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/** Runs a Docker API call and turns "could not connect" failures into DockerUnreachableError. */
export async function dockerCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { statusCode?: number };
    if (e.statusCode === undefined && e.code !== undefined && CONNECT_ERRORS.has(e.code)) {
      throw new DockerUnreachableError(`Docker engine unreachable at ${dockerEndpoint()}: ${e.message}`, { cause: err });
    }
    throw err;
  }
}

/** Docker API errors carry the HTTP status; 404 means "no such container/path". */
export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}
