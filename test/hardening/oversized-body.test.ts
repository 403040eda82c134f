// A client that sends a body over the limit is told 413 in OpenAI's shape, not cut off mid-upload.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/app.ts';

describe('oversized bodies over a real socket', () => {
  let server: ServerProcess;
  let token: string;
  beforeAll(async () => {
    server = await startServer({ DATA_DIR: tempDir(), LOG_LEVEL: 'warn' });
    token = (await (await fetch(`${server.url}/auth/guest-login`, { method: 'POST' })).json()).access_token;
  });
  afterAll(() => server.stop());

  it('answers 413 to a 10 MB JSON body while it is still being sent', async () => {
    const body = Buffer.alloc(10 * 1024 * 1024, 'a');
    const result = await new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = http.request(`${server.url}/v1/images/generations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length },
      }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
      });
      req.on('error', reject);
      // Written in pieces, as a real upload is, with a pause after the first megabyte: a server that
      // answers and closes before reading the rest has done so by then, and the next write breaks.
      let offset = 0;
      let paused = false;
      const writeMore = () => {
        while (offset < body.length) {
          if (offset >= 1024 * 1024 && !paused) {
            paused = true;
            return void setTimeout(writeMore, 300);
          }
          const chunk = body.subarray(offset, offset + 64 * 1024);
          offset += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', writeMore);
        }
        req.end();
      };
      writeMore();
    });
    expect(result.status).toBe(413);
    expect(result.json.error).toMatchObject({ type: 'invalid_request_error', code: 'payload_too_large' });
  });
});
