import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatCompletion, GenerationAborted, type CompletionEnd } from './completion';
import { OneAtATime } from './one-at-a-time';
import { ApiError, ChatCompletionRequest } from './openai-wire';
import type { ServedPolicy } from './served-policy';

/** A request body larger than this is refused (413): even the longest context is far smaller as JSON. */
const MAX_BODY_BYTES = 8 * 2 ** 20;
/** Requests that may wait behind the one being generated before new ones get 429. */
const MAX_WAITING = 64;

export interface PolicyServer {
  /** e.g. http://127.0.0.1:8000/v1 */
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * The OpenAI-compatible HTTP API of one policy: `GET /v1/models`, `POST /v1/chat/completions` (JSON or SSE
 * stream). One completion is generated at a time; the rest wait in order.
 */
export async function startPolicyServer(p: { policy: ServedPolicy; host: string; port: number; log?: (line: string) => void }): Promise<PolicyServer> {
  const queue = new OneAtATime(MAX_WAITING);
  const log = p.log ?? (() => {});
  const server = http.createServer((req, res) => {
    const t0 = Date.now();
    route({ policy: p.policy, queue, req, res })
      .catch((err: unknown) => {
        if (err instanceof GenerationAborted) return log(`${req.method} ${req.url}: ${err.message}`);
        const api = err instanceof ApiError ? err : new ApiError(500, `internal error: ${(err as Error).message}`, { type: 'server_error' });
        if (api.status >= 500) log(`error: ${(err as Error).stack ?? String(err)}`);
        if (res.headersSent) {
          // mid-stream: the status is already 200, so the error goes in the stream
          if (!res.writableEnded) res.end(`data: ${JSON.stringify(api.body)}\n\n`);
        } else sendJson(res, api.status, api.body);
      })
      .finally(() => log(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - t0} ms`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p.port, p.host, resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    baseUrl: `http://${host}:${port}/v1`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function route(p: { policy: ServedPolicy; queue: OneAtATime; req: http.IncomingMessage; res: http.ServerResponse }): Promise<void> {
  const { req, res, policy } = p;
  const url = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '');
  const known: Record<string, string> = { '/v1/models': 'GET', '/v1/chat/completions': 'POST', [`/v1/models/${policy.id}`]: 'GET' };
  const method = known[url];
  if (!method) throw new ApiError(404, `Invalid URL (${req.method} ${url || '/'})`, { code: 'not_found' });
  if (req.method !== method) {
    res.setHeader('allow', method);
    throw new ApiError(405, `${url} takes ${method}, not ${req.method}`, { code: 'method_not_allowed' });
  }
  const card = { id: policy.id, object: 'model', created: policy.created, owned_by: 'mlagent' };
  if (url === '/v1/models') return sendJson(res, 200, { object: 'list', data: [card] });
  if (url !== '/v1/chat/completions') return sendJson(res, 200, card);

  const parsed = ChatCompletionRequest.safeParse(await readJson(req));
  if (!parsed.success) throw ApiError.fromZod(parsed.error);
  const request = parsed.data;
  if (request.model !== policy.id) throw new ApiError(404, `The model \`${request.model}\` does not exist (this server serves \`${policy.id}\`)`, { param: 'model', code: 'model_not_found' });

  const aborted = new AbortController();
  res.on('close', () => { if (!res.writableFinished) aborted.abort(); });
  await p.queue.run(async () => {
    if (aborted.signal.aborted) return;
    const head = { id: `chatcmpl-${randomBytes(12).toString('hex')}`, created: Math.floor(Date.now() / 1000), model: policy.id };
    const pieces = chatCompletion({ policy, request, signal: aborted.signal });
    if (request.stream) await stream({ res, pieces, head, includeUsage: request.stream_options?.include_usage ?? false });
    else {
      let content = '';
      let r = await pieces.next();
      for (; !r.done; r = await pieces.next()) content += r.value;
      sendJson(res, 200, {
        ...head,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: r.value.finishReason }],
        usage: r.value.usage,
      });
    }
  });
}

/** Server-sent events as OpenAI sends them: a role chunk, content deltas, a finish chunk, usage if asked, `[DONE]`. */
async function stream(p: { res: http.ServerResponse; pieces: AsyncGenerator<string, CompletionEnd>; head: { id: string; created: number; model: string }; includeUsage: boolean }): Promise<void> {
  const chunk = (choices: unknown[], extra: object = {}) => `data: ${JSON.stringify({ ...p.head, object: 'chat.completion.chunk', choices, ...extra })}\n\n`;
  const delta = (d: object, finish: string | null = null) => chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);
  // the first step (prompt prefill) runs before the headers, so a request it rejects still gets a JSON 4xx
  let r = await p.pieces.next();
  p.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  p.res.write(delta({ role: 'assistant', content: '' }));
  for (; !r.done; r = await p.pieces.next()) p.res.write(delta({ content: r.value }));
  p.res.write(delta({}, r.value.finishReason));
  if (p.includeUsage) p.res.write(chunk([], { usage: r.value.usage }));
  p.res.end('data: [DONE]\n\n');
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `request body over ${MAX_BODY_BYTES} bytes`, { code: 'request_too_large' });
    parts.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    throw new ApiError(400, 'We could not parse the JSON body of your request: it is not valid JSON', { code: 'invalid_json' });
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
