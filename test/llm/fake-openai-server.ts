import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny OpenAI-compatible HTTP server on 127.0.0.1 for protocol tests: it records every request and
 * answers with whatever the test's handler returns (canned, schema-real responses; no model runs).
 */
export interface SeenRequest {
  url: string;
  auth: string | undefined;
  body: Record<string, unknown>;
}
export type FakeHandler = (req: SeenRequest) => { status: number; body: unknown } | 'hang';

export interface FakeOpenAiServer {
  baseUrl: string;
  seen: SeenRequest[];
  handle(handler: FakeHandler): void;
  close(): void;
}

export async function startFakeOpenAiServer(): Promise<FakeOpenAiServer> {
  let handler: FakeHandler = () => ({ status: 500, body: { error: { message: 'no handler set' } } });
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const s: SeenRequest = { url: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(raw) as Record<string, unknown> };
      seen.push(s);
      const out = handler(s);
      if (out === 'hang') return;
      res.writeHead(out.status, { 'content-type': 'application/json' });
      res.end(typeof out.body === 'string' ? out.body : JSON.stringify(out.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`,
    seen,
    handle: (h) => (handler = h),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

export function chatReply(content: string) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'chat-m-2025',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
  };
}

export function embeddingsReply(vectors: number[][]) {
  return {
    object: 'list',
    model: 'embed-m',
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    usage: { prompt_tokens: 4 * vectors.length, total_tokens: 4 * vectors.length },
  };
}
