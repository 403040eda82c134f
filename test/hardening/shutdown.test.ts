// Graceful shutdown of the real process: on SIGTERM it stops taking connections, lets the requests under
// way finish (a streamed and a slow plain chat completion, held by a slow upstream), closes the database
// and exits 0. Started again on the same data, it reads back everything those requests saved.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testEnv } from '../helpers/app.ts';
import { startServer } from '../helpers/server-process.ts';
import { postStream } from '../chat/client.ts';
import { chunk, completion, DONE, json, signal, sse, startUpstream, type Upstream } from '../chat/upstream.ts';

/** Resolves once a new connection to the port is refused (the server has stopped listening). */
async function refusedBy(port: number, deadlineMs = 5000): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('graceful shutdown', () => {
  let upstream: Upstream;
  const env = testEnv('sqlite', { LOG_LEVEL: 'warn' });
  afterAll(async () => {
    await upstream?.close();
    fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  it('finishes the requests under way, refuses new connections, closes the database and exits 0', async () => {
    const release = signal();
    upstream = await startUpstream();
    upstream.handle = async (request, res) => {
      if (request.body?.stream) {
        sse(res).write(chunk('first half, '));
        await release.promise;
        res.end(chunk('second half', 'stop') + DONE);
        return;
      }
      await release.promise;
      json(res, 200, completion('a slow answer'));
    };
    Object.assign(env, { LLM_PROVIDER_URL: `${upstream.url}/v1` });
    let server = await startServer(env);
    const login = await (await fetch(`${server.url}/auth/guest-login`, { method: 'POST' })).json();
    const headers = { authorization: `Bearer ${login.access_token}`, 'content-type': 'application/json' };
    const newConversation = async () => (await (await fetch(`${server.url}/v1/conversations`, { method: 'POST', headers, body: '{}' })).json()).id as string;
    const streamed = await newConversation();
    const plain = await newConversation();

    const stream = await postStream(server.url, login.access_token, { model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'stream please' }], conversation: streamed });
    await stream.readUntil((text) => text.includes('first half'));
    const slow = fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'take your time' }], conversation: plain }) });
    while (upstream.requests('/v1/chat/completions').length < 2) await new Promise((r) => setTimeout(r, 10));

    const exited = server.stop('SIGTERM');
    expect(await refusedBy(server.port)).toBe(true);
    release.resolve();

    const rest = await stream.readAll();
    expect(rest).toContain('second half');
    expect(rest).toContain('[DONE]');
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect((await answer.json()).choices[0].message.content).toBe('a slow answer');
    expect(await exited).toBe(0);
    // SQLite removes its write-ahead log when the last connection closes cleanly.
    expect(fs.existsSync(path.join(env.DATA_DIR!, 'easel.db-wal'))).toBe(false);

    server = await startServer(env);
    try {
      const items = async (id: string) => (await (await fetch(`${server.url}/v1/conversations/${id}/items?order=asc`, { headers })).json()).data;
      const text = (item: { content: Array<{ text?: string }> }) => item.content.map((p) => p.text ?? '').join('');
      const streamedItems = await items(streamed);
      expect(streamedItems.map(text)).toEqual(['stream please', 'first half, second half']);
      expect(streamedItems[1].status).toBe('completed');
      expect((await items(plain)).map(text)).toEqual(['take your time', 'a slow answer']);
    } finally {
      await server.stop();
    }
  });
});
