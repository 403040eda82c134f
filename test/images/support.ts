// Shared pieces of the image tests: real images, row counts, multipart bodies, SSE parsing and
// loopback upstream servers that answer like OpenAI-compatible image providers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import type { TestApp } from '../helpers/app.ts';

/** Image requests per user are rate limited; the tests make many on purpose. */
export const NO_IMAGE_LIMIT = { RATE_LIMIT_IMAGES: '100000/min' };

export async function png(width: number, height: number, colour = '#d63b3b'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer();
}

export async function jpeg(width: number, height: number, colour = '#2f6fd6'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } }).jpeg().toBuffer();
}

/** A PNG mask: opaque (kept) on the left half, transparent (edited) on the right. */
export async function halfMask(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) pixels[(y * width + x) * 4 + 3] = x < width / 2 ? 255 : 0;
  }
  return sharp(pixels, { raw: { width, height, channels: 4 } }).png().toBuffer();
}

export const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export async function countRows(t: TestApp, table: 'media' | 'items' | 'image_jobs'): Promise<number> {
  const row = await t.container.db.kysely.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A multipart body and its content type, as a browser or the SDK would send it. */
export async function multipart(fields: Record<string, string | Blob | Array<string | Blob>>): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    for (const entry of Array.isArray(value) ? value : [value]) {
      if (typeof entry === 'string') form.append(name, entry);
      else form.append(name, entry, `${name.replace(/\W/g, '')}.bin`);
    }
  }
  const request = new Request('http://easel.test/', { method: 'POST', body: form });
  return { payload: Buffer.from(await request.arrayBuffer()), headers: { 'content-type': request.headers.get('content-type')! } };
}

export const blob = (bytes: Buffer, type = 'application/octet-stream') => new Blob([new Uint8Array(bytes)], { type });

export interface SseEvent {
  event: string | undefined;
  data: any;
}

export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length);
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice('data: '.length)).join('\n');
      return { event, data: JSON.parse(data) };
    });
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type UpstreamHandler = (request: RecordedRequest, res: http.ServerResponse, upstream: Upstream) => unknown;

export interface Upstream {
  /** http://127.0.0.1:port */
  origin: string;
  requests: RecordedRequest[];
  handler: UpstreamHandler;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 with a port of its own; `handler` may be swapped between tests. */
export async function startUpstream(handler: UpstreamHandler): Promise<Upstream> {
  const upstream: Upstream = { origin: '', requests: [], handler, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = { method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      upstream.requests.push(recorded);
      Promise.resolve(upstream.handler(recorded, res, upstream)).catch((error) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  upstream.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return upstream;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The text fields of a form, by name. */
export function textFields(form: FormData): Record<string, string> {
  const fields: Record<string, string> = {};
  form.forEach((value, name) => {
    if (typeof value === 'string') fields[name] = value;
  });
  return fields;
}

/** The multipart form an upstream received, parsed by the platform's own parser. */
export async function receivedForm(request: RecordedRequest): Promise<FormData> {
  return new Request('http://upstream.test/', {
    method: 'POST',
    headers: { 'content-type': String(request.headers['content-type']) },
    body: new Uint8Array(request.body),
  }).formData();
}
