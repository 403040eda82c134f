// The upstream HTTP client on a real loopback server whose kept-alive connection breaks under a request:
// a call marked resendIfStale goes once more on a new connection, any other fails with the reset (an image
// provider may have started, and billed, the work it was sent).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBody, send } from '../../src/providers/http.ts';

describe('upstream requests on a kept-alive connection the upstream resets', () => {
  let server: http.Server;
  let url: URL;
  /** Requests the upstream read in full, and the connection each came on. */
  let received: Array<{ connection: number }>;
  let resetNext: boolean;

  // A server (so a port, so a connection pool) of its own for each test.
  beforeEach(async () => {
    received = [];
    resetNext = false;
    const connections = new WeakMap<object, number>();
    let opened = 0;
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (!connections.has(req.socket)) connections.set(req.socket, ++opened);
        received.push({ connection: connections.get(req.socket)! });
        if (resetNext) {
          resetNext = false;
          req.socket.resetAndDestroy(); // read the whole request, then a TCP reset instead of an answer
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/x`);
  });
  afterEach(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const post = async (resendIfStale?: boolean) => {
    const res = await send({ method: 'POST', url, headers: { 'content-type': 'text/plain' }, body: 'hello', idleTimeoutMs: 5_000, resendIfStale });
    return (await readBody(res)).toString();
  };

  it('sends a resendIfStale call once more, on a new connection', async () => {
    expect(await post(true)).toBe('ok');
    resetNext = true;
    expect(await post(true)).toBe('ok');
    expect(received).toEqual([{ connection: 1 }, { connection: 1 }, { connection: 2 }]);
  });

  it('fails any other call with the reset, having sent it once', async () => {
    expect(await post()).toBe('ok');
    resetNext = true;
    await expect(post()).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(received).toEqual([{ connection: 1 }, { connection: 1 }]);
  });
});
