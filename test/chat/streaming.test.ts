import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { events, listen, postStream } from './client.ts';
import { chunk, DONE, json, signal, sse, startUpstream, type Upstream } from './upstream.ts';

describe.each(DATABASES)('streamed chat completions on %s', (kind) => {
  let upstream: Upstream;
  let t: TestApp;
  let base: string;
  let alice: Guest;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startApp(kind, { LLM_PROVIDER_URL: `${upstream.url}/v1`, LLM_PROVIDER_API_KEY: 'sk-test' });
    base = await listen(t.app);
    alice = await t.guest();
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const newConversation = async () => (await t.as(alice.token, { method: 'POST', url: '/v1/conversations', payload: {} })).json();
  const items = async (id: string) => (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${id}/items?order=asc` })).json().data;
  const ask = (conversation: string, extra: object = {}) =>
    postStream(base, alice.token, { model: 'gpt-test', messages: [{ role: 'user', content: 'Say hello' }], stream: true, conversation, ...extra });

  it('relays each upstream chunk as it arrives and saves the whole reply when the stream ends', async () => {
    const firstSeen = signal();
    upstream.handle = async (_request, res) => {
      sse(res).write(chunk('Hel'));
      // The rest only once the client has received the first chunk: a buffering relay would never get here.
      await firstSeen.promise;
      res.end(chunk('lo there', 'stop') + DONE);
    };
    const conv = await newConversation();
    const stream = await ask(conv.id, { stream_options: { include_usage: true } });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['x-request-id']).toMatch(/^req_/);

    await stream.readUntil((text) => text.includes('"Hel"'));
    expect(stream.text()).toBe(chunk('Hel'));
    firstSeen.resolve();

    // Relayed byte for byte, ending with the upstream's own [DONE].
    expect(await stream.readAll()).toBe(chunk('Hel') + chunk('lo there', 'stop') + DONE);
    expect(upstream.requests('/v1/chat/completions').at(-1)!.body).toEqual({
      model: 'gpt-test', messages: [{ role: 'user', content: 'Say hello' }], stream: true, stream_options: { include_usage: true },
    });
    const stored = await items(conv.id);
    expect(stored).toHaveLength(2);
    expect(stored[0]).toMatchObject({ role: 'user', content: [{ text: 'Say hello' }] });
    expect(stored[1]).toMatchObject({ role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hello there' }] });
  });

  it('ends with data: [DONE] even when the upstream does not send it', async () => {
    upstream.handle = (_request, res) => void sse(res).end(chunk('Hi', 'stop'));
    const stream = await ask((await newConversation()).id);
    const all = await stream.readAll();
    expect(events(all).at(-1)).toBe('[DONE]');
    expect(all).toBe(chunk('Hi', 'stop') + DONE);
  });

  it('streams without a conversation, saving nothing', async () => {
    const stream = await postStream(base, alice.token, { messages: [{ role: 'user', content: 'x' }], stream: true });
    expect(await stream.readAll()).toBe(chunk('Upstream ') + chunk('reply', 'stop') + DONE);
  });

  it('aborts the upstream call when the client leaves, and saves what arrived as incomplete', async () => {
    const upstreamAborted = signal();
    upstream.handle = async (request, res) => {
      sse(res).write(chunk('Partial '));
      res.write(chunk('answer'));
      await request.aborted; // holds the rest until the caller hangs up
      upstreamAborted.resolve();
    };
    const conv = await newConversation();
    const stream = await ask(conv.id);
    await stream.readUntil((text) => text.includes('"answer"'));
    stream.destroy();

    await upstreamAborted.promise;
    await vi.waitFor(async () => expect(await items(conv.id)).toHaveLength(2));
    const stored = await items(conv.id);
    expect(stored[0]).toMatchObject({ role: 'user', status: 'completed', content: [{ text: 'Say hello' }] });
    expect(stored[1]).toMatchObject({ role: 'assistant', status: 'incomplete', content: [{ type: 'output_text', text: 'Partial answer' }] });
  });

  it('sends an SSE error event when the upstream fails mid-stream, and saves nothing', async () => {
    const firstSeen = signal();
    upstream.handle = async (_request, res) => {
      sse(res).write(chunk('Half'));
      await firstSeen.promise;
      res.socket!.destroy();
    };
    const conv = await newConversation();
    const stream = await ask(conv.id);
    await stream.readUntil((text) => text.includes('"Half"'));
    firstSeen.resolve();
    const all = await stream.readAll();
    const data = events(all);
    expect(data.at(-1)).not.toBe('[DONE]');
    expect(JSON.parse(data.at(-1)!)).toEqual({
      error: { message: 'The chat provider failed while streaming its reply.', type: 'provider_error', param: null, code: 'provider_error' },
    });
    expect(await items(conv.id)).toEqual([]);
  });

  it('answers an upstream that breaks before its first chunk with a JSON error, not a 200 stream', async () => {
    upstream.handle = (_request, res) => {
      sse(res).flushHeaders();
      setTimeout(() => res.socket!.destroy(), 20);
    };
    const conv = await newConversation();
    const stream = await ask(conv.id);
    expect(stream.status).toBe(500);
    expect(stream.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(await stream.readAll())).toEqual({
      error: { message: 'The chat provider failed while streaming its reply.', type: 'provider_error', param: null, code: 'provider_error' },
    });
    expect(await items(conv.id)).toEqual([]);
  });

  it('relays an error event the upstream sends in its stream, and saves nothing', async () => {
    const failure = `data: ${JSON.stringify({ error: { message: 'context length exceeded', type: 'invalid_request_error' } })}\n\n`;
    upstream.handle = (_request, res) => void sse(res).end(chunk('Par') + failure);
    const conv = await newConversation();
    const all = await (await ask(conv.id)).readAll();
    expect(all).toBe(chunk('Par') + failure);
    expect(await items(conv.id)).toEqual([]);
  });

  it('answers an upstream refusal before streaming as an ordinary JSON error', async () => {
    upstream.handle = (_request, res) => json(res, 400, { error: { message: 'stream_options needs stream', param: 'stream_options', code: null } });
    const conv = await newConversation();
    const stream = await ask(conv.id);
    expect(stream.status).toBe(400);
    expect(stream.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(await stream.readAll()).error).toMatchObject({ message: 'stream_options needs stream', type: 'invalid_request_error', param: 'stream_options' });
    expect(await items(conv.id)).toEqual([]);
  });

  it('refuses an upstream that answers a stream request with something other than SSE', async () => {
    upstream.handle = (_request, res) => json(res, 200, { id: 'chatcmpl-x', choices: [] });
    const stream = await ask((await newConversation()).id);
    expect(stream.status).toBe(500);
    expect(JSON.parse(await stream.readAll()).error.type).toBe('provider_error');
  });
});
