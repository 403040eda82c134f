// One HTTP request over node:http with timings, for the load generators. Bodies are drained and only
// counted: the client should cost as little as possible next to the servers it measures.
import http from 'node:http';

export interface RequestSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A request prepared once and sent many times. */
export interface PreparedRequest {
  options: http.RequestOptions;
  body: Buffer | undefined;
}

export function prepare(spec: RequestSpec): PreparedRequest {
  const url = new URL(spec.url);
  const body = spec.body === undefined ? undefined : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body);
  const headers: Record<string, string> = { ...spec.headers };
  if (body) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(body.length);
  }
  return {
    options: { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: spec.method ?? (body ? 'POST' : 'GET'), headers },
    body,
  };
}

export function keepAliveAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096, scheduling: 'lifo' });
}

export interface Outcome {
  status: number;
  /** performance.now() when the first SSE `data:` bytes arrived (streams) or the first body bytes (others). */
  firstChunkAt: number;
  endAt: number;
  bytes: number;
  error?: string;
}

const DATA = Buffer.from('data:');

export function send(agent: http.Agent, request: PreparedRequest, options: { timeoutMs: number; sse?: boolean }): Promise<Outcome> {
  return new Promise((resolve) => {
    let firstChunkAt = NaN;
    let bytes = 0;
    let status = 0;
    let settled = false;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      resolve({ status, firstChunkAt, endAt: performance.now(), bytes, error });
    };
    const req = http.request({ ...request.options, agent }, (res) => {
      status = res.statusCode ?? 0;
      res.on('data', (chunk: Buffer) => {
        if (Number.isNaN(firstChunkAt) && (!options.sse || chunk.includes(DATA))) firstChunkAt = performance.now();
        bytes += chunk.length;
      });
      res.once('end', () => done(status >= 200 && status < 300 ? undefined : `HTTP ${status}`));
      res.once('error', (error) => done(error.message));
    });
    req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`timeout after ${options.timeoutMs} ms`)));
    req.once('error', (error) => done(error.message));
    req.end(request.body);
  });
}
