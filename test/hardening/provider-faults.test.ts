// Every way an upstream can fail, for chat and for images, against loopback providers: each gives the caller
// a clear error, leaves nothing half stored (no item without its media, no media row without its file, no
// file without its row), and is retried only when the provider cannot have started the work (connection
// refused, 429/503): never after a 500, a 502, a timeout or a reset, since image calls are billed.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/server-process.ts';
import { chunk, completion, json, sse, startUpstream as startChatUpstream, type Received, type Upstream as ChatUpstream } from '../chat/upstream.ts';
import { countRows, NO_IMAGE_LIMIT, parseSse, png, sendJson, startUpstream as startImageUpstream, type Upstream as ImageUpstream } from '../images/support.ts';
import { OpenAICompatibleChat } from '../../src/providers/chat/openai-compatible.ts';
import { OpenAICompatibleImageProvider } from '../../src/providers/image/openai-compatible.ts';
import { ChatRequest } from '../../src/providers/chat/provider.ts';
import { UPSTREAM_RETRY, type RetryPolicy } from '../../src/providers/retry.ts';

const PROVIDER_KEY = 'sk-fault-matrix-secret-0123456789';

type Respond = (res: http.ServerResponse) => void;

/** Answers `faulty` to the first `times` calls, then `healthy`. */
function firstCalls(times: number, faulty: Respond, healthy: Respond): Respond {
  let calls = 0;
  return (res) => (++calls <= times ? faulty : healthy)(res);
}

const withRetryAfter = (status: number, seconds: string): Respond => (res) => {
  res.setHeader('retry-after', seconds);
  json(res, status, { error: { message: `busy (HTTP ${status})` } });
};
const status = (code: number): Respond => (res) => json(res, code, { error: { message: `upstream says ${code}; key ${PROVIDER_KEY}` } });
const hang: Respond = () => undefined;
const garbage: Respond = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [oops');
const truncated: Respond = (res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4000' }).write('{"id":"x","data":[{"b64_json":"iVBORw0K');
  setTimeout(() => res.socket?.destroy(), 20);
};
const resetBeforeAnswer: Respond = (res) => res.socket?.destroy();

/** Everything stored is whole: each row has its file, each file its row, each image in an item its row. */
async function expectNothingHalfStored(t: TestApp): Promise<void> {
  const db = t.container.db.kysely;
  const rows = await db.selectFrom('media').select(['id', 'storage_key']).execute();
  const mediaDir = path.join(t.env.DATA_DIR!, 'media');
  const files = fs.existsSync(mediaDir)
    ? fs.readdirSync(mediaDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(mediaDir, path.join(e.parentPath, e.name)))
    : [];
  expect(files.sort()).toEqual(rows.map((r) => r.storage_key).sort());
  const ids = new Set(rows.map((r) => r.id));
  const calls = await db.selectFrom('items').select('data').where('type', '=', 'image_generation_call').execute();
  for (const call of calls) {
    for (const image of (JSON.parse(call.data) as { images: Array<{ id: string }> }).images) expect(ids.has(image.id)).toBe(true);
  }
}

describe.each(DATABASES)('provider faults on %s', (kind) => {
  let chatUpstream: ChatUpstream;
  let imageUpstream: ImageUpstream;
  let t: TestApp;
  let alice: Guest;
  let image: Buffer;
  let imageRespond: Respond;

  beforeAll(async () => {
    image = await png(16, 16, '#3366cc');
    chatUpstream = await startChatUpstream();
    imageUpstream = await startImageUpstream((_req, res) => imageRespond(res));
    t = await startApp(kind, {
      ...NO_IMAGE_LIMIT,
      LLM_PROVIDER_URL: `${chatUpstream.url}/v1`,
      LLM_PROVIDER_API_KEY: PROVIDER_KEY,
      LLM_PROVIDER_TIMEOUT_SECONDS: '1',
      IMAGE_PROVIDER_URL: `${imageUpstream.origin}/v1`,
      IMAGE_PROVIDER_API_KEY: PROVIDER_KEY,
      IMAGE_PROVIDER_TIMEOUT_SECONDS: '1',
    });
    alice = await t.guest();
  });
  afterEach(async () => {
    chatUpstream.reset();
    chatUpstream.received.length = 0;
    imageUpstream.requests.length = 0;
    await expectNothingHalfStored(t);
  });
  afterAll(async () => {
    await t.close();
    await chatUpstream.close();
    await imageUpstream.close();
  });

  const conversation = async () => (await t.as(alice.token, { method: 'POST', url: '/v1/conversations', payload: {} })).json().id as string;
  const imageOk: Respond = (res) => sendJson(res, 200, { created: 1, data: [{ b64_json: image.toString('base64') }] });
  const chatOk: Respond = (res) => json(res, 200, completion('fine'));

  describe('chat completions', () => {
    const cases: Array<[string, Respond, { status: number; calls: number; message?: RegExp }]> = [
      ['500', status(500), { status: 500, calls: 1, message: /HTTP 500/ }],
      ['502', status(502), { status: 500, calls: 1, message: /HTTP 502/ }],
      ['503 every time: retried twice, then given up', status(503), { status: 500, calls: 3, message: /HTTP 503/ }],
      ['503 once: the retry succeeds', firstCalls(1, status(503), chatOk), { status: 200, calls: 2 }],
      ['429 with Retry-After: 1 once: waited for, then succeeds', firstCalls(1, withRetryAfter(429, '1'), chatOk), { status: 200, calls: 2 }],
      ['429 with a Retry-After beyond the cap: handed back at once', withRetryAfter(429, '60'), { status: 429, calls: 1, message: /busy/ }],
      ['a timeout', hang, { status: 500, calls: 1, message: /did not respond in time/ }],
      ['garbage JSON', garbage, { status: 500, calls: 1, message: /not JSON/ }],
      ['a truncated body', truncated, { status: 500, calls: 1, message: /failed to answer/ }],
    ];
    it.each(cases)('%s', async (_name, respond, expected) => {
      chatUpstream.handle = (_request: Received, res) => respond(res);
      const conv = await conversation();
      const items = await countRows(t, 'items');
      const res = await t.as(alice.token, { method: 'POST', url: '/v1/chat/completions', payload: { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], conversation: conv } });
      expect(res.statusCode).toBe(expected.status);
      expect(chatUpstream.requests('/v1/chat/completions')).toHaveLength(expected.calls);
      expect(res.body).not.toContain(PROVIDER_KEY);
      if (expected.status === 200) {
        expect(await countRows(t, 'items')).toBe(items + 2);
        return;
      }
      expect(res.json().error).toMatchObject({ type: expected.status === 429 ? 'rate_limit_error' : 'provider_error', message: expect.stringMatching(expected.message!) });
      if (expected.status === 429) expect(res.headers['retry-after']).toBe('60');
      expect(await countRows(t, 'items')).toBe(items);
    });

    it('a stream refused with 503 before it starts is retried and then streams', async () => {
      let calls = 0;
      chatUpstream.handle = (_request, res) => {
        if (++calls === 1) return status(503)(res);
        sse(res).end(chunk('streamed', 'stop'));
      };
      const res = await t.as(alice.token, { method: 'POST', url: '/v1/chat/completions', payload: { model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('streamed');
      expect(calls).toBe(2);
    });

    it('a reset in the middle of a stream ends it with an error event and saves nothing', async () => {
      chatUpstream.handle = (_request, res) => {
        sse(res).write(chunk('half a '));
        setTimeout(() => res.socket?.destroy(), 20);
      };
      const conv = await conversation();
      const items = await countRows(t, 'items');
      const res = await t.as(alice.token, { method: 'POST', url: '/v1/chat/completions', payload: { model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }], conversation: conv } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('half a ');
      expect(res.body).toMatch(/"type":"provider_error"/);
      expect(res.body).not.toContain('[DONE]');
      expect(chatUpstream.requests('/v1/chat/completions')).toHaveLength(1);
      expect(await countRows(t, 'items')).toBe(items);
    });
  });

  describe('image generations', () => {
    const cases: Array<[string, Respond, { status: number; calls: number; message?: RegExp }]> = [
      ['500', status(500), { status: 500, calls: 1, message: /HTTP 500/ }],
      ['502', status(502), { status: 500, calls: 1, message: /HTTP 502/ }],
      ['503 every time: retried twice, then given up', status(503), { status: 500, calls: 3, message: /HTTP 503/ }],
      ['503 once: the retry succeeds', firstCalls(1, status(503), imageOk), { status: 200, calls: 2 }],
      ['429 with Retry-After: 1 once: waited for, then succeeds', firstCalls(1, withRetryAfter(429, '1'), imageOk), { status: 200, calls: 2 }],
      ['429 with a Retry-After beyond the cap: not waited for', withRetryAfter(429, '60'), { status: 500, calls: 1, message: /HTTP 429/ }],
      ['a timeout', hang, { status: 500, calls: 1, message: /did not answer within 1 s/ }],
      ['garbage JSON', garbage, { status: 500, calls: 1, message: /not JSON/ }],
      ['a truncated body', truncated, { status: 500, calls: 1, message: /image provider/ }],
      ['a reset before answering', resetBeforeAnswer, { status: 500, calls: 1, message: /image provider/ }],
    ];
    it.each(cases)('%s', async (_name, respond, expected) => {
      imageRespond = respond;
      const conv = await conversation();
      const media = await countRows(t, 'media');
      const items = await countRows(t, 'items');
      const res = await t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'a blue square', conversation_id: conv } });
      expect(res.statusCode).toBe(expected.status);
      expect(imageUpstream.requests).toHaveLength(expected.calls);
      expect(res.body).not.toContain(PROVIDER_KEY);
      if (expected.status === 200) {
        expect(await countRows(t, 'media')).toBe(media + 1);
        expect(await countRows(t, 'items')).toBe(items + 2);
        return;
      }
      expect(res.json().error).toMatchObject({ type: 'provider_error', message: expect.stringMatching(expected.message!) });
      expect(await countRows(t, 'media')).toBe(media);
      expect(await countRows(t, 'items')).toBe(items);
    });

    it('a reset in the middle of a streamed image ends with an error event and keeps nothing', async () => {
      const partial = await png(8, 8, '#999999');
      imageRespond = (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const type = 'image_generation.partial_image';
        res.write(`event: ${type}\ndata: ${JSON.stringify({ type, b64_json: partial.toString('base64'), partial_image_index: 0 })}\n\n`);
        setTimeout(() => res.socket?.destroy(), 20);
      };
      const conv = await conversation();
      const media = await countRows(t, 'media');
      const items = await countRows(t, 'items');
      const res = await t.as(alice.token, {
        method: 'POST',
        url: '/v1/images/generations',
        payload: { prompt: 'x', model: 'gpt-image-1', stream: true, partial_images: 1, conversation_id: conv },
      });
      expect(res.statusCode).toBe(200);
      const events = parseSse(res.body);
      expect(events.map((e) => e.event)).toEqual(['image_generation.partial_image', 'error']);
      expect(events[1]!.data.error.type).toBe('provider_error');
      expect(imageUpstream.requests).toHaveLength(1);
      expect(await countRows(t, 'media')).toBe(media);
      expect(await countRows(t, 'items')).toBe(items);
    });
  });

  it('a refused connection is retried, then a clear provider_error with nothing stored', async () => {
    const port = await freePort();
    const refused = await startApp(kind, {
      LLM_PROVIDER_URL: `http://127.0.0.1:${port}/v1`,
      IMAGE_PROVIDER_URL: `http://127.0.0.1:${port}/v1`,
      IMAGE_PROVIDER_API_KEY: PROVIDER_KEY,
    });
    try {
      const guest = await refused.guest();
      const conv = (await refused.as(guest.token, { method: 'POST', url: '/v1/conversations', payload: {} })).json().id;
      const chat = await refused.as(guest.token, { method: 'POST', url: '/v1/chat/completions', payload: { messages: [{ role: 'user', content: 'x' }], conversation: conv } });
      expect(chat.statusCode).toBe(500);
      expect(chat.json().error).toMatchObject({ type: 'provider_error', message: 'The chat provider could not be reached.' });
      const images = await refused.as(guest.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x', conversation_id: conv } });
      expect(images.statusCode).toBe(500);
      expect(images.json().error).toMatchObject({ type: 'provider_error', message: expect.stringContaining('connection refused') });
      expect(await countRows(refused, 'items')).toBe(0);
      expect(await countRows(refused, 'media')).toBe(0);
      await expectNothingHalfStored(refused);
    } finally {
      await refused.close();
    }
  });
});

describe('retrying a refused connection', () => {
  /** A policy whose wait brings the upstream up: the retry finds it listening. */
  async function upstreamThatStartsDuringTheWait(respond: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
    const port = await freePort();
    const server = http.createServer(respond);
    const waits: number[] = [];
    const policy: RetryPolicy = {
      ...UPSTREAM_RETRY,
      sleep: async (ms) => {
        waits.push(ms);
        if (!server.listening) await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      },
    };
    return { url: `http://127.0.0.1:${port}/v1`, policy, waits, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  it('chat: the first attempt is refused, the retry reaches the provider', async () => {
    const upstream = await upstreamThatStartsDuringTheWait((_req, res) => json(res, 200, completion('after a refusal')));
    try {
      const provider = new OpenAICompatibleChat({ url: upstream.url, apiKey: undefined, timeoutMs: 5000 }, 60, upstream.policy);
      const result = await provider.complete(new ChatRequest({ messages: [{ role: 'user', content: 'x' }] }));
      expect(result.body.choices?.[0]?.message?.content).toBe('after a refusal');
      expect(upstream.waits).toHaveLength(1);
    } finally {
      await upstream.close();
    }
  });

  it('images: the first attempt is refused, the retry reaches the provider', async () => {
    const image = await png(8, 8, '#00ff00');
    const upstream = await upstreamThatStartsDuringTheWait((_req, res) => sendJson(res, 200, { data: [{ b64_json: image.toString('base64') }] }));
    try {
      const provider = new OpenAICompatibleImageProvider({ url: upstream.url, apiKey: undefined, timeoutMs: 5000 }, { maxImageBytes: 1 << 20, modelsCacheTtlSeconds: 60, retry: upstream.policy });
      const batch = await provider.generate({ prompt: 'x', n: 1, size: '512x512', options: {} });
      expect(batch.images[0]!.bytes.equals(image)).toBe(true);
      expect(upstream.waits).toHaveLength(1);
    } finally {
      await upstream.close();
    }
  });
});
