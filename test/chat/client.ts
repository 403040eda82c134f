// A client that reads Easel's streamed answer chunk by chunk over a real socket (inject would buffer it all).
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';

export interface StreamedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Everything received so far. */
  text(): string;
  /** Reads until what was received satisfies the condition; fails if the response ends first. */
  readUntil(done: (text: string) => boolean): Promise<string>;
  /** Reads to the end of the response. */
  readAll(): Promise<string>;
  /** Hangs up, as a client that goes away. */
  destroy(): void;
}

export async function listen(app: FastifyInstance): Promise<string> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

export function postStream(baseUrl: string, token: string, body: unknown): Promise<StreamedResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      agent: false,
    });
    req.once('error', reject);
    req.once('response', (res) => {
      res.setEncoding('utf8');
      const chunks = res[Symbol.asyncIterator]();
      let received = '';
      const readUntil = async (done: (text: string) => boolean) => {
        while (!done(received)) {
          const next = await chunks.next();
          if (next.done) throw new Error(`response ended before the expected data; got: ${received}`);
          received += next.value;
        }
        return received;
      };
      resolve({
        status: res.statusCode!,
        headers: res.headers,
        text: () => received,
        readUntil,
        async readAll() {
          for (let next = await chunks.next(); !next.done; next = await chunks.next()) received += next.value;
          return received;
        },
        destroy: () => req.destroy(),
      });
    });
    req.end(JSON.stringify(body));
  });
}

/** The data of each SSE event in a text. */
export function events(text: string): string[] {
  return text
    .split(/\n\n/)
    .map((block) => block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n'))
    .filter(Boolean);
}
