// A real OpenAI-compatible upstream on loopback that records every request it gets; tests swap its handler.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
  /** Resolves if the caller closed the connection before the response finished. */
  aborted: Promise<void>;
}

export type Handler = (request: Received, res: http.ServerResponse) => void | Promise<void>;

export interface Upstream {
  url: string;
  received: Received[];
  /** The current behaviour; reset() restores the default. */
  handle: Handler;
  /** Requests to a path, in order. */
  requests(path: string): Received[];
  reset(): void;
  close(): Promise<void>;
}

export const UPSTREAM_MODELS = [
  { id: 'gpt-test', object: 'model', created: 1_700_000_000, owned_by: 'test-org' },
  { id: 'org/model-with-slash', object: 'model', created: 1_700_000_001, owned_by: 'test-org' },
];

export function completion(text: string, model = 'gpt-test') {
  return {
    id: 'chatcmpl-upstream',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
}

/** One SSE event carrying a content delta, as OpenAI sends it. */
export function chunk(content: string, finishReason: string | null = null): string {
  const body = { id: 'chatcmpl-upstream', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-test', choices: [{ index: 0, delta: { content }, finish_reason: finishReason }] };
  return `data: ${JSON.stringify(body)}\n\n`;
}

export const DONE = 'data: [DONE]\n\n';

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
}

export function sse(res: http.ServerResponse): http.ServerResponse {
  return res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

const defaultHandler: Handler = (request, res) => {
  if (request.url.endsWith('/models')) return json(res, 200, { object: 'list', data: UPSTREAM_MODELS });
  if (request.body?.stream) {
    sse(res).write(chunk('Upstream '));
    res.end(chunk('reply', 'stop') + DONE);
    return;
  }
  json(res, 200, completion('Upstream reply', request.body?.model));
};

export async function startUpstream(): Promise<Upstream> {
  const received: Received[] = [];
  const upstream: Upstream = {
    url: '',
    received,
    handle: defaultHandler,
    requests: (path) => received.filter((r) => r.url === path),
    reset() {
      upstream.handle = defaultHandler;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const part of req) raw += part;
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const aborted = new Promise<void>((resolve) => res.once('close', () => !res.writableFinished && resolve()));
    const request: Received = { method: req.method!, url: req.url!, headers: req.headers, raw, body, aborted };
    received.push(request);
    try {
      await upstream.handle(request, res);
    } catch (error) {
      if (!res.headersSent) json(res, 599, { error: { message: String(error) } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return upstream;
}

/** A promise and the function that settles it, for handing control between the test and the upstream. */
export function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
