// Requests to an upstream (chat and image providers) over kept-alive connections: node:http, with no
// fetch/WHATWG-stream overhead per chunk and no cap on how long an answer may take to start.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

/**
 * A pooled connection idle this long is closed. Servers such as uvicorn (vLLM, AUTOMATIC1111's web UI)
 * close theirs after 5 s by default; a call sent on a connection the server is closing at that moment
 * fails, and an image call is never sent again (see resendIfStale). Servers that announce a shorter
 * timeout in a Keep-Alive header are left 1 s before it (Node's own rule).
 */
const IDLE_CONNECTION_MS = 4_000;

// One pool per process: connections to the provider are reused across requests.
const agents = {
  'http:': new http.Agent({ keepAlive: true, scheduling: 'lifo', timeout: IDLE_CONNECTION_MS }),
  'https:': new https.Agent({ keepAlive: true, scheduling: 'lifo', timeout: IDLE_CONNECTION_MS }),
};

/** http.request options for a URL, worked out once per URL object (reading a URL's parts is not free). */
interface Target {
  protocol: string;
  hostname: string;
  port: string;
  path: string;
  auth?: string;
}

const targets = new WeakMap<URL, Target>();

function targetOf(url: URL): Target {
  let target = targets.get(url);
  if (!target) {
    target = {
      protocol: url.protocol,
      // An IPv6 literal comes bracketed in a URL's hostname; http.request wants it bare.
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port,
      path: `${url.pathname}${url.search}`,
      ...(url.username || url.password ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` } : {}),
    };
    targets.set(url, target);
  }
  return target;
}

export class UpstreamTimeoutError extends Error {
  override name = 'UpstreamTimeoutError';
}

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Longest silence allowed, waiting for the response or between two chunks of it. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
  /**
   * Send once more, on a new connection, when a kept-alive one turns out to have been closed by the
   * upstream (a reset before any answer). Usually the upstream had closed it idle and never saw the
   * request, but it may also have crashed while working on it: only for calls that may run twice.
   */
  resendIfStale?: boolean;
}

/** Sends the request and resolves with the response once its headers are in; the body is left to read. */
export async function send(request: UpstreamRequest): Promise<IncomingMessage> {
  try {
    return await attempt(request);
  } catch (error) {
    if (request.resendIfStale && (error as { staleSocket?: boolean }).staleSocket && !request.signal?.aborted) return attempt(request);
    throw error;
  }
}

function attempt(request: UpstreamRequest): Promise<IncomingMessage> {
  const { url, body } = request;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? request.headers : { ...request.headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = client.request({ ...targetOf(url), method: request.method, headers, agent: agents[url.protocol as 'http:' | 'https:'], signal: request.signal }, resolve);
    req.setTimeout(request.idleTimeoutMs, () => req.destroy(new UpstreamTimeoutError(`no data from the upstream for ${request.idleTimeoutMs} ms`)));
    req.once('error', (error: NodeJS.ErrnoException) => {
      if (req.reusedSocket && error.code === 'ECONNRESET') Object.assign(error, { staleSocket: true });
      reject(error);
    });
    req.end(body);
  });
}

/** The whole body; fails on a broken connection or idle timeout like the response itself. */
export async function readBody(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
