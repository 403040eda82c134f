// Security: no user reaches another's conversations, items or media through any route (always 404, as
// for an id that does not exist); signed URLs give bytes only for the exact image, signature and expiry;
// bodies and uploads are held to their limits; and logs never carry a token, key, signature or prompt.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { buildApp } from '../../src/app.ts';
import { DATABASES, guestLogin, startApp, testEnv, type Guest, type TestApp } from '../helpers/app.ts';
import { chunk, completion, DONE, json, sse, startUpstream as startChatUpstream, type Upstream as ChatUpstream } from '../chat/upstream.ts';
import { blob, countRows, multipart, NO_IMAGE_LIMIT, png, sendJson, startUpstream as startImageUpstream, type Upstream as ImageUpstream } from '../images/support.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

function expectNotFound(res: LightMyRequestResponse, what: string): void {
  expect(res.statusCode, what).toBe(404);
  expect(res.json().error.type, what).toBe('not_found_error');
}

describe.each(DATABASES)('one user cannot reach another\'s resources on %s', (kind) => {
  let t: TestApp;
  let alice: Guest;
  let bob: Guest;
  let bobs: { conversation: string; item: string; media: string; keyId: string };
  let alicesConversation: string;
  let alicesImage: string;

  beforeAll(async () => {
    t = await startApp(kind, NO_IMAGE_LIMIT);
    alice = await t.guest();
    bob = await t.guest();
    const conversation = (await t.as(bob.token, { method: 'POST', url: '/v1/conversations', payload: { title: 'bob private', items: [{ role: 'user', content: 'bob secret' }] } })).json().id;
    const item = (await t.as(bob.token, { method: 'GET', url: `/v1/conversations/${conversation}/items` })).json().data[0].id;
    const media = (await t.as(bob.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'bob image', size: '512x512', conversation_id: conversation } })).json().data[0].id;
    const keyId = (await t.as(bob.token, { method: 'POST', url: '/auth/api-keys', payload: { name: 'bob key' } })).json().id;
    bobs = { conversation, item, media, keyId };
    alicesConversation = (await t.as(alice.token, { method: 'POST', url: '/v1/conversations', payload: {} })).json().id;
    alicesImage = (await t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'alice image', size: '512x512' } })).json().data[0].id;
  });
  afterAll(() => t.close());

  const asAlice = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) => t.as(alice.token, { method, url, ...(payload ? { payload } : {}) });

  it('conversations and items: every route answers 404 and changes nothing', async () => {
    const { conversation, item } = bobs;
    const attempts: Array<[string, Promise<LightMyRequestResponse>]> = [
      ['get conversation', asAlice('GET', `/v1/conversations/${conversation}`)],
      ['update conversation', asAlice('POST', `/v1/conversations/${conversation}`, { title: 'mine now' })],
      ['delete conversation', asAlice('DELETE', `/v1/conversations/${conversation}`)],
      ['list items', asAlice('GET', `/v1/conversations/${conversation}/items`)],
      ['add items', asAlice('POST', `/v1/conversations/${conversation}/items`, { items: [{ role: 'user', content: 'planted' }] })],
      ['get item', asAlice('GET', `/v1/conversations/${conversation}/items/${item}`)],
      ['delete item', asAlice('DELETE', `/v1/conversations/${conversation}/items/${item}`)],
      ['get item through own conversation', asAlice('GET', `/v1/conversations/${alicesConversation}/items/${item}`)],
      ['delete item through own conversation', asAlice('DELETE', `/v1/conversations/${alicesConversation}/items/${item}`)],
    ];
    for (const [what, attempt] of attempts) {
      const res = await attempt;
      expectNotFound(res, what);
      expect(res.body, what).not.toContain('bob secret');
    }
    const list = (await asAlice('GET', '/v1/conversations')).json();
    expect(list.data.map((c: { id: string }) => c.id)).not.toContain(conversation);
    expect((await asAlice('GET', `/v1/conversations?after=${conversation}`)).statusCode).toBe(400);

    // Bob's conversation is as he left it.
    const his = await t.as(bob.token, { method: 'GET', url: `/v1/conversations/${conversation}` });
    expect(his.json().title).toBe('bob private');
    const items = (await t.as(bob.token, { method: 'GET', url: `/v1/conversations/${conversation}/items?order=asc` })).json().data;
    expect(items.map((i: { id: string }) => i.id)[0]).toBe(item);
    expect(items).toHaveLength(3);
  });

  it('media: not served, not usable as an edit input or mask, not attachable to an item or a chat message', async () => {
    const { media } = bobs;
    expectNotFound(await asAlice('GET', `/v1/media/${media}`), 'media');
    const before = await countRows(t, 'media');
    expectNotFound(await asAlice('POST', '/v1/images/edits', { prompt: 'steal', image: { id: media } }), 'edit input');
    expectNotFound(await asAlice('POST', '/v1/images/edits', { prompt: 'steal', image: [{ id: alicesImage }, { id: media }] }), 'second edit input');
    expectNotFound(await asAlice('POST', '/v1/images/edits', { prompt: 'steal', image: { id: alicesImage }, mask: { id: media } }), 'mask');
    expect(await countRows(t, 'media')).toBe(before);

    // An item is shown with a freshly signed URL for each image it names: naming Bob's would hand it out.
    const part = { type: 'input_image', file_id: media };
    const planted = await asAlice('POST', `/v1/conversations/${alicesConversation}/items`, { items: [{ role: 'user', content: [part] }] });
    expectNotFound(planted, 'item with another user\'s image');
    expect(planted.json().error.param).toBe('items[0].content[0].file_id');
    expectNotFound(await asAlice('POST', '/v1/conversations', { items: [{ role: 'user', content: [{ type: 'input_text', text: 'x' }, part] }] }), 'new conversation with another user\'s image');
    const chat = await asAlice('POST', '/v1/chat/completions', { messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, part] }], conversation: alicesConversation });
    expectNotFound(chat, 'chat message with another user\'s image');
    const items = (await asAlice('GET', `/v1/conversations/${alicesConversation}/items`)).json().data;
    expect(JSON.stringify(items)).not.toContain(media);

    // Her own image she may attach, and it is shown with its URL.
    const own = await asAlice('POST', `/v1/conversations/${alicesConversation}/items`, { items: [{ role: 'user', content: [{ type: 'input_image', file_id: alicesImage }] }] });
    expect(own.statusCode).toBe(200);
    expect(own.json().data[0].content[0].image_url).toContain(`/images/${alicesImage}.png?`);
  });

  it('images and chat into another user\'s conversation: 404, nothing stored, nothing generated', async () => {
    const { conversation } = bobs;
    const media = await countRows(t, 'media');
    const items = await countRows(t, 'items');
    expectNotFound(await asAlice('POST', '/v1/images/generations', { prompt: 'into bob', conversation_id: conversation }), 'generation');
    expectNotFound(await asAlice('POST', '/v1/images/generations', { prompt: 'into bob', conversation_id: conversation, stream: true }), 'streamed generation');
    expectNotFound(await asAlice('POST', '/v1/images/edits', { prompt: 'into bob', image: { id: alicesImage }, conversation_id: conversation }), 'edit');
    const messages = [{ role: 'user', content: 'what did bob say?' }];
    for (const ref of [conversation, { id: conversation }]) {
      const res = await asAlice('POST', '/v1/chat/completions', { messages, conversation: ref });
      expectNotFound(res, 'chat');
      expect(res.body).not.toContain('bob secret');
      expectNotFound(await asAlice('POST', '/v1/chat/completions', { messages, conversation: ref, stream: true }), 'streamed chat');
    }
    expect(await countRows(t, 'media')).toBe(media);
    expect(await countRows(t, 'items')).toBe(items);
  });

  it('API keys: another user\'s key cannot be revoked', async () => {
    expectNotFound(await asAlice('DELETE', `/auth/api-keys/${bobs.keyId}`), 'revoke key');
    const keys = (await t.as(bob.token, { method: 'GET', url: '/auth/api-keys' })).json().data;
    expect(keys.map((k: { id: string }) => k.id)).toContain(bobs.keyId);
  });
});

describe('signed image URLs', () => {
  let t: TestApp;
  let alice: Guest;
  let image: { id: string; url: string };
  let other: { id: string; url: string };

  beforeAll(async () => {
    t = await startApp('sqlite', NO_IMAGE_LIMIT);
    alice = await t.guest();
    const generate = async (prompt: string) => (await t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt, size: '512x512' } })).json().data[0];
    image = await generate('signed');
    other = await generate('other');
  });
  afterAll(() => t.close());

  const get = (url: string) => t.app.inject({ method: 'GET', url });
  const parts = (url: string) => {
    const u = new URL(url);
    return { path: u.pathname, exp: u.searchParams.get('exp')!, sig: u.searchParams.get('sig')! };
  };

  it('serves the exact signed URL', async () => {
    const res = await get(new URL(image.url).pathname + new URL(image.url).search);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.subarray(0, 4).equals(PNG_SIGNATURE)).toBe(true);
  });

  it('never gives the bytes for a tampered, expired, moved or disguised URL', async () => {
    const { path, exp, sig } = parts(image.url);
    const others = parts(other.url);
    const expired = parts(t.container.mediaUrls.url('http://x', image.id, 'image/png', Date.now() - 2 * 3600_000));
    const flipped = (sig[5] === 'A' ? 'B' : 'A');
    const attempts = [
      `${path}?exp=${exp}&sig=${sig.slice(0, 5)}${flipped}${sig.slice(6)}`,
      `${path}?exp=${exp}&sig=${sig.slice(0, -1)}`,
      `${path}?exp=${exp}&sig=${sig}A`,
      `${path}?exp=${Number(exp) + 1}&sig=${sig}`,
      `${path}?exp=${exp}.0&sig=${sig}`,
      `${path}?exp=${expired.exp}&sig=${expired.sig}`,
      `/images/${other.id}.png?exp=${exp}&sig=${sig}`,
      `${path}?exp=${others.exp}&sig=${others.sig}`,
      `${path}?exp=${exp}&sig=${sig}&sig=${sig}`,
      // The extension is not part of the signature; only the image's own one serves it.
      `/images/${image.id}.jpg?exp=${exp}&sig=${sig}`,
      `/images/${image.id}.webp?exp=${exp}&sig=${sig}`,
      `/images/${image.id}.PNG?exp=${exp}&sig=${sig}`,
      `/images/${image.id.toUpperCase()}.png?exp=${exp}&sig=${sig}`,
      `/images/${image.id}.png%00.jpg?exp=${exp}&sig=${sig}`,
      `/images/${image.id}?exp=${exp}&sig=${sig}`,
      `/images/..%2F${image.id}.png?exp=${exp}&sig=${sig}`,
      `/images/%2E%2E%2Fmedia%2F${image.id.slice(-2)}%2F${image.id}.png?exp=${exp}&sig=${sig}`,
      `/images/${image.id}.png%2F..%2F${other.id}.png?exp=${exp}&sig=${sig}`,
      `/images/x/../${image.id}.png?exp=${exp}`,
      `/images/${encodeURIComponent(`../media/${image.id.slice(-2)}/${image.id}.png`)}?exp=${exp}&sig=${sig}`,
      `/images/..%252F..%252Fpackage.json?exp=${exp}&sig=${sig}`,
      `/v1/media/..%2F${image.id}`,
      `/v1/media/${image.id}%2F..`,
    ];
    for (const url of attempts) {
      const res = await get(url);
      expect([400, 401, 403, 404], url).toContain(res.statusCode);
      expect(res.rawPayload.includes(PNG_SIGNATURE), url).toBe(false);
      expect(res.json().error, url).toMatchObject({ message: expect.any(String), type: expect.any(String) });
    }
  });
});

describe('body and upload limits', () => {
  let t: TestApp;
  let alice: Guest;

  beforeAll(async () => {
    t = await startApp('sqlite', { ...NO_IMAGE_LIMIT, BODY_LIMIT_BYTES: String(64 * 1024), MAX_IMAGE_BYTES: String(16 * 1024) });
    alice = await t.guest();
  });
  afterAll(() => t.close());

  const expectTooLarge = (res: LightMyRequestResponse, what: string) => {
    expect(res.statusCode, what).toBe(413);
    expect(res.json().error, what).toMatchObject({ type: 'invalid_request_error', code: 'payload_too_large' });
  };
  /** A body streamed without a Content-Length, so the limit has to be enforced while it arrives. */
  const streamed = (text: string) => Readable.from([Buffer.from(text.slice(0, 1000)), Buffer.from(text.slice(1000))]);

  it('refuses JSON bodies over BODY_LIMIT_BYTES, declared or streamed', async () => {
    const big = JSON.stringify({ title: 'x'.repeat(100 * 1024) });
    expectTooLarge(await t.as(alice.token, { method: 'POST', url: '/v1/conversations', payload: big, headers: { 'content-type': 'application/json' } }), 'conversation');
    const chat = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] });
    expectTooLarge(await t.as(alice.token, { method: 'POST', url: '/v1/chat/completions', payload: streamed(chat), headers: { 'content-type': 'application/json' } }), 'streamed chat');
    expectTooLarge(await t.app.inject({ method: 'POST', url: '/auth/refresh-token', payload: streamed(JSON.stringify({ refresh_token: 'x'.repeat(100 * 1024) })), headers: { 'content-type': 'application/json' } }), 'unauthenticated');
    expect(await countRows(t, 'items')).toBe(0);
  });

  it('refuses an uploaded image over MAX_IMAGE_BYTES, and too many files', async () => {
    const large = await png(256, 256);
    // Noise does not compress: make sure the upload really is over the limit.
    const noisy = Buffer.concat([large, Buffer.alloc(32 * 1024, 7)]);
    const form = await multipart({ prompt: 'x', image: blob(noisy, 'image/png') });
    expectTooLarge(await t.as(alice.token, { method: 'POST', url: '/v1/images/edits', ...form }), 'multipart image');
    const json = { prompt: 'x', image: { b64_json: noisy.toString('base64') } };
    const res = await t.as(alice.token, { method: 'POST', url: '/v1/images/edits', payload: json });
    expectTooLarge(res, 'base64 image');
    const small = await png(8, 8);
    const many = await multipart({ prompt: 'x', 'image[]': Array.from({ length: 20 }, () => blob(small, 'image/png')) });
    const tooMany = await t.as(alice.token, { method: 'POST', url: '/v1/images/edits', ...many });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.type).toBe('invalid_request_error');
    expect(await countRows(t, 'media')).toBe(0);
  });
});

describe('logs', () => {
  const PROVIDER_KEY = 'sk-provider-log-secret-0123456789abcdef';
  const PROMPT_SECRET = 'my-password-is-hunter2-7f3a9c';
  let chatUpstream: ChatUpstream;
  let imageUpstream: ImageUpstream;
  let container: Container;
  let app: FastifyInstance;
  let env: Record<string, string>;
  let output = '';

  beforeAll(async () => {
    const image = await png(16, 16);
    chatUpstream = await startChatUpstream();
    imageUpstream = await startImageUpstream((_req, res) => sendJson(res, 200, { data: [{ b64_json: image.toString('base64'), revised_prompt: PROMPT_SECRET }] }));
    env = testEnv('sqlite', {
      LOG_LEVEL: 'debug',
      LLM_PROVIDER_URL: `${chatUpstream.url}/v1`,
      LLM_PROVIDER_API_KEY: PROVIDER_KEY,
      IMAGE_PROVIDER_URL: `${imageUpstream.origin}/v1`,
      IMAGE_PROVIDER_API_KEY: PROVIDER_KEY,
    });
    container = await createContainer(loadConfig(env));
    app = await buildApp(container, { logDestination: { write: (line: string) => void (output += line) } });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await container.close();
    await chatUpstream.close();
    await imageUpstream.close();
    fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  it('carry no token, provider key, URL signature or prompt over a whole session, failures included', async () => {
    const guest = await guestLogin(app);
    const refreshed = (await app.inject({ method: 'POST', url: '/auth/refresh-token', payload: { refresh_token: guest.refreshToken } })).json();
    const headers = { authorization: `Bearer ${refreshed.access_token}` };
    const conversation = (await app.inject({ method: 'POST', url: '/v1/conversations', headers, payload: { title: PROMPT_SECRET } })).json().id;
    const messages = [{ role: 'user', content: `remember this: ${PROMPT_SECRET}` }];
    expect((await app.inject({ method: 'POST', url: '/v1/chat/completions', headers, payload: { model: 'gpt-test', messages, conversation } })).statusCode).toBe(200);
    chatUpstream.handle = (_request, res) => {
      sse(res).write(chunk(PROMPT_SECRET));
      res.end(DONE);
    };
    expect((await app.inject({ method: 'POST', url: '/v1/chat/completions', headers, payload: { model: 'gpt-test', messages, stream: true } })).statusCode).toBe(200);
    const generated = await app.inject({ method: 'POST', url: '/v1/images/generations', headers, payload: { prompt: PROMPT_SECRET, conversation_id: conversation } });
    expect(generated.statusCode).toBe(200);
    const url = new URL(generated.json().data[0].url);
    expect((await app.inject({ method: 'GET', url: url.pathname + url.search })).statusCode).toBe(200);
    const items = await app.inject({ method: 'GET', url: `/v1/conversations/${conversation}/items`, headers });
    const signatures = [...items.body.matchAll(/sig=([A-Za-z0-9_-]+)/g)].map((m) => m[1]!);
    expect(signatures.length).toBeGreaterThan(0);

    // Failures log their cause; an upstream that quotes the key is still scrubbed.
    chatUpstream.handle = (_request, res) => json(res, 500, { error: { message: `bad key ${PROVIDER_KEY}` } });
    expect((await app.inject({ method: 'POST', url: '/v1/chat/completions', headers, payload: { messages: [{ role: 'user', content: 'x' }] } })).statusCode).toBe(500);
    chatUpstream.handle = (_request, res) => json(res, 200, completion('ok'));
    await app.inject({ method: 'GET', url: '/v1/conversations', headers: { authorization: `Bearer ${refreshed.access_token}x` } });

    const secrets = [guest.token, guest.refreshToken, refreshed.access_token, refreshed.refresh_token, PROVIDER_KEY, url.searchParams.get('sig')!, ...signatures, PROMPT_SECRET];
    expect(output).toContain('request completed');
    for (const secret of secrets) expect(output).not.toContain(secret);
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});
