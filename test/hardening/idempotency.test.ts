// Idempotency-Key on chat completions and image generations/edits: a repeat replays the stored answer
// without a second provider call; another body under the key, or a repeat while the first is running, is
// 409; keys are per user, released by failures, and expire after 24 hours. Loopback upstreams count calls.
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { completion, json, signal, startUpstream as startChatUpstream, type Upstream as ChatUpstream } from '../chat/upstream.ts';
import { countRows, NO_IMAGE_LIMIT, png, sendJson, startUpstream as startImageUpstream, type Upstream as ImageUpstream } from '../images/support.ts';

describe.each(DATABASES)('Idempotency-Key on %s', (kind) => {
  let chatUpstream: ChatUpstream;
  let imageUpstream: ImageUpstream;
  let t: TestApp;
  let alice: Guest;
  let bob: Guest;
  let image: Buffer;
  let keyCount = 0;
  const newKey = () => `key-${kind}-${++keyCount}-${Date.now()}`;

  const answerImages = (req: { headers: http.IncomingHttpHeaders; body: Buffer }, res: http.ServerResponse) => {
    const n = req.headers['content-type']?.startsWith('application/json') ? JSON.parse(req.body.toString()).n : 1;
    sendJson(res, 200, { created: 1, data: Array.from({ length: n }, () => ({ b64_json: image.toString('base64') })) });
  };

  beforeAll(async () => {
    image = await png(16, 16, '#00aa00');
    chatUpstream = await startChatUpstream();
    imageUpstream = await startImageUpstream(answerImages);
    t = await startApp(kind, {
      ...NO_IMAGE_LIMIT,
      LLM_PROVIDER_URL: `${chatUpstream.url}/v1`,
      IMAGE_PROVIDER_URL: `${imageUpstream.origin}/v1`,
    });
    alice = await t.guest();
    bob = await t.guest();
  });
  afterEach(() => {
    chatUpstream.reset();
    imageUpstream.handler = answerImages;
  });
  afterAll(async () => {
    await t.close();
    await chatUpstream.close();
    await imageUpstream.close();
  });

  const completions = () => chatUpstream.requests('/v1/chat/completions').length;
  const generations = () => imageUpstream.requests.filter((r) => r.path === '/v1/images/generations').length;
  const post = (guest: Guest, url: string, payload: object, key?: string) =>
    t.as(guest.token, { method: 'POST', url, payload, headers: key === undefined ? {} : { 'idempotency-key': key } });
  const chat = (guest: Guest, payload: object, key?: string) => post(guest, '/v1/chat/completions', payload, key);
  const hello = { model: 'gpt-test', messages: [{ role: 'user', content: 'Hello' }] };

  it('replays a chat completion for the same key and body without calling the provider again', async () => {
    const conversation = (await post(alice, '/v1/conversations', {})).json().id;
    const payload = { ...hello, conversation };
    const key = newKey();
    const before = completions();
    const first = await chat(alice, payload, key);
    expect(first.statusCode).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    const again = await chat(alice, payload, key);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toMatch(/^application\/json/);
    expect(again.body).toBe(first.body);
    expect(completions()).toBe(before + 1);
    // The turn was saved once.
    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conversation}/items` })).json().data;
    expect(items).toHaveLength(2);
  });

  it('treats the same fields in another order as the same request', async () => {
    const key = newKey();
    const first = await chat(alice, { model: 'gpt-test', messages: [{ role: 'user', content: 'Order' }] }, key);
    const again = await chat(alice, { messages: [{ content: 'Order', role: 'user' }], model: 'gpt-test' }, key);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
  });

  it('refuses the same key with another body: 409 conflict_error, and the provider is not called', async () => {
    const key = newKey();
    expect((await chat(alice, hello, key)).statusCode).toBe(200);
    const before = completions();
    const other = await chat(alice, { ...hello, messages: [{ role: 'user', content: 'Something else' }] }, key);
    expect(other.statusCode).toBe(409);
    expect(other.json()).toEqual({ error: { message: expect.stringMatching(/different request/), type: 'conflict_error', param: null, code: 'idempotency_key_mismatch' } });
    expect(completions()).toBe(before);
  });

  it('refuses a repeat while the first request is still running, then replays it once done', async () => {
    const gate = signal();
    const arrived = signal();
    chatUpstream.handle = async (request, res) => {
      arrived.resolve();
      await gate.promise;
      json(res, 200, completion('slow reply', request.body.model));
    };
    const key = newKey();
    const first = chat(alice, hello, key);
    await arrived.promise;
    const during = await chat(alice, hello, key);
    expect(during.statusCode).toBe(409);
    expect(during.json().error).toMatchObject({ type: 'conflict_error', code: 'idempotency_key_in_use' });
    gate.resolve();
    const done = await first;
    expect(done.statusCode).toBe(200);
    const after = await chat(alice, hello, key);
    expect(after.headers['idempotent-replayed']).toBe('true');
    expect(after.json().choices[0].message.content).toBe('slow reply');
  });

  it('keeps keys per user: the same key from another user is a request of its own', async () => {
    const key = newKey();
    await chat(alice, hello, key);
    const before = completions();
    const bobs = await chat(bob, hello, key);
    expect(bobs.statusCode).toBe(200);
    expect(bobs.headers['idempotent-replayed']).toBeUndefined();
    expect(completions()).toBe(before + 1);
  });

  it('keeps only successes: after a provider failure the same key tries again', async () => {
    chatUpstream.handle = (_request, res) => json(res, 500, { error: { message: 'boom' } });
    const key = newKey();
    const failed = await chat(alice, hello, key);
    expect(failed.statusCode).toBe(500);
    chatUpstream.reset();
    const before = completions();
    const retried = await chat(alice, hello, key);
    expect(retried.statusCode).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(completions()).toBe(before + 1);
  });

  it('refuses a key on a streamed request (a stream cannot be replayed) and malformed keys', async () => {
    const before = completions();
    const streamed = await chat(alice, { ...hello, stream: true }, newKey());
    expect(streamed.statusCode).toBe(400);
    expect(streamed.json().error).toMatchObject({ type: 'invalid_request_error', param: 'stream', code: 'idempotency_stream_unsupported' });
    for (const bad of ['x'.repeat(256), 'clé-unicode', 'with space']) {
      const res = await chat(alice, hello, bad);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.code, bad).toBe('invalid_idempotency_key');
    }
    expect(completions()).toBe(before);
  });

  it('replays an image generation: the same images, stored once, one provider call', async () => {
    const conversation = (await post(alice, '/v1/conversations', {})).json().id;
    const payload = { prompt: 'a green square', n: 2, size: '512x512', conversation_id: conversation };
    const key = newKey();
    const calls = generations();
    const media = await countRows(t, 'media');
    const first = await post(alice, '/v1/images/generations', payload, key);
    expect(first.statusCode).toBe(200);
    const again = await post(alice, '/v1/images/generations', payload, key);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().data.map((d: { id: string }) => d.id)).toEqual(first.json().data.map((d: { id: string }) => d.id));
    expect(generations()).toBe(calls + 1);
    expect(await countRows(t, 'media')).toBe(media + 2);
    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conversation}/items` })).json().data;
    expect(items).toHaveLength(2);

    const changed = await post(alice, '/v1/images/generations', { ...payload, size: '1024x1024' }, key);
    expect(changed.statusCode).toBe(409);
    expect(generations()).toBe(calls + 1);
  });

  it('replays an async job\'s 202 with its Location and Preference-Applied, and queues the job once', async () => {
    const key = newKey();
    const jobs = await countRows(t, 'image_jobs');
    const submit = () =>
      t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'later', size: '512x512' }, headers: { 'idempotency-key': key, prefer: 'respond-async' } });
    const first = await submit();
    expect(first.statusCode).toBe(202);
    expect(first.headers.location).toBe(`/v1/images/jobs/${first.json().id}`);
    const again = await submit();
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers['preference-applied']).toBe('respond-async');
    expect(again.json().id).toBe(first.json().id);
    expect(await countRows(t, 'image_jobs')).toBe(jobs + 1);
  });

  it('replays an image edit with the same uploaded image, and refuses the key with another image', async () => {
    const key = newKey();
    const edits = () => imageUpstream.requests.filter((r) => r.path === '/v1/images/edits').length;
    const payload = { prompt: 'make it red', image: { b64_json: image.toString('base64') } };
    const calls = edits();
    const first = await post(alice, '/v1/images/edits', payload, key);
    expect(first.statusCode).toBe(200);
    const again = await post(alice, '/v1/images/edits', payload, key);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expect(edits()).toBe(calls + 1);
    const other = await post(alice, '/v1/images/edits', { ...payload, image: { b64_json: (await png(16, 16, '#ff0000')).toString('base64') } }, key);
    expect(other.statusCode).toBe(409);
    expect(edits()).toBe(calls + 1);
  });

  it('forgets a key after 24 hours: an expired key is a new request, and the sweep deletes expired rows', async () => {
    const key = newKey();
    await chat(alice, hello, key);
    const db = t.container.db.kysely;
    await db.updateTable('idempotency_keys').set({ expires_at: Date.now() - 1 }).where('key', '=', key).execute();
    const before = completions();
    const reused = await chat(alice, { ...hello, messages: [{ role: 'user', content: 'A new question' }] }, key);
    expect(reused.statusCode).toBe(200);
    expect(reused.headers['idempotent-replayed']).toBeUndefined();
    expect(completions()).toBe(before + 1);

    const stale = newKey();
    await chat(alice, hello, stale);
    await db.updateTable('idempotency_keys').set({ expires_at: Date.now() - 1 }).where('key', '=', stale).execute();
    expect(await t.container.idempotency.deleteExpired()).toBeGreaterThanOrEqual(1);
    const left = await db.selectFrom('idempotency_keys').select('key').where('key', '=', stale).execute();
    expect(left).toEqual([]);
  });

  it('lets a new request take over a key whose first request died in flight long ago', async () => {
    const key = newKey();
    await chat(alice, hello, key);
    // As if the process had crashed mid-request 20 minutes ago.
    await t.container.db.kysely
      .updateTable('idempotency_keys')
      .set({ state: 'in_flight', response_body: null, response_status: null, created_at: Date.now() - 20 * 60_000 })
      .where('key', '=', key)
      .execute();
    const before = completions();
    const res = await chat(alice, hello, key);
    expect(res.statusCode).toBe(200);
    expect(completions()).toBe(before + 1);
    expect((await chat(alice, hello, key)).headers['idempotent-replayed']).toBe('true');
  });
});
