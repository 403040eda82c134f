// The upstream HTTP client's kept-alive connections, on a real loopback server. When one breaks under a
// request, a call marked resendIfStale goes once more on a new connection and any other fails with the
// reset (an image provider may have started, and billed, the work it was sent). Idle ones are closed
// before a server's unannounced 5 s timeout, never under a call that is waiting for its answer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBody, send } from '../../src/providers/http.ts';

describe('upstream requests on kept-alive connections', () => {
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

  it('closes a pooled connection idle for 4 s, before a server that closes its own after 5 s unannounced would', async () => {
    server.keepAliveTimeout = 0; // no Keep-Alive header, and no idle close of its own
    expect(await post()).toBe('ok');
    expect(await post()).toBe('ok');
    await new Promise((resolve) => setTimeout(resolve, 4_300));
    expect(await post()).toBe('ok');
    expect(received).toEqual([{ connection: 1 }, { connection: 1 }, { connection: 2 }]);
  }, 10_000);

  it('still waits out an upstream silent for longer than that, up to the call\'s own idle timeout', async () => {
    expect(await post()).toBe('ok'); // a pooled connection, with the pool's idle timer on it
    const quick = server.listeners('request')[0] as http.RequestListener;
    server.removeAllListeners('request');
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => setTimeout(() => quick(req, res), 4_500));
    expect(await post()).toBe('ok');
    expect(received).toEqual([{ connection: 1 }, { connection: 1 }]);
  }, 10_000);
});
