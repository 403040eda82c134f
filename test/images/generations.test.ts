// /v1/images/generations with the built-in demo model: the guide's requests, history, and every error row.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { countRows, NO_IMAGE_LIMIT } from './support.ts';

const GUIDE_PROMPT = 'A serene mountain landscape at sunset with vibrant orange and purple sky, photorealistic';

describe.each(DATABASES)('image generations on %s', (kind) => {
  let t: TestApp;
  let alice: Guest;
  let bob: Guest;

  beforeAll(async () => {
    t = await startApp(kind, NO_IMAGE_LIMIT);
    alice = await t.guest();
    bob = await t.guest();
  });
  afterAll(() => t.close());

  const generate = (guest: Guest, payload: unknown) => t.as(guest.token, { method: 'POST', url: '/v1/images/generations', payload: payload as object });
  const conversation = async (guest: Guest) =>
    (await t.as(guest.token, { method: 'POST', url: '/v1/conversations', payload: { title: 'Image Generation Test Conversation' } })).json().id as string;
  /** Follows a signed URL the way a browser would: no token. */
  const fetchSigned = (url: string, headers: Record<string, string> = {}) => {
    const u = new URL(url);
    return t.app.inject({ method: 'GET', url: u.pathname + u.search, headers });
  };

  it('answers the guide\'s request 5 and keeps the prompt and image in the conversation', async () => {
    const conv = await conversation(alice);
    const res = await generate(alice, { prompt: GUIDE_PROMPT, n: 1, size: '1024x1024', response_format: 'url', conversation_id: conv, store: true });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.created).toEqual(expect.any(Number));
    expect(body.data).toHaveLength(1);
    const image = body.data[0];
    expect(image.id).toMatch(/^jan_[0-9a-z]{26}$/);
    expect(image.url).toMatch(new RegExp(`/images/${image.id}\\.png\\?exp=\\d+&sig=[\\w-]+$`));
    expect(image.b64_json).toBeUndefined();

    // The URL works without a token and serves a real 1024x1024 PNG.
    const file = await fetchSigned(image.url);
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('image/png');
    expect(await sharp(file.rawPayload).metadata()).toMatchObject({ format: 'png', width: 1024, height: 1024 });

    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv}/items?order=asc` })).json().data;
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text', text: GUIDE_PROMPT }] });
    expect(items[1]).toMatchObject({ type: 'image_generation_call', status: 'completed', prompt: GUIDE_PROMPT, model: 'easel-demo-image', size: '1024x1024' });
    expect(items[1].id).toMatch(/^ig_/);
    expect(items[1].images).toEqual([{ id: image.id, url: expect.stringContaining(`/images/${image.id}.png?exp=`) }]);
    expect((await fetchSigned(items[1].images[0].url)).statusCode).toBe(200);

    // History holds references only: no URL, signature or base64 is stored, so a read always signs afresh.
    const rows = await t.container.db.kysely.selectFrom('items').select('data').where('conversation_id', '=', conv).execute();
    for (const row of rows) {
      expect(row.data).not.toMatch(/https?:|sig=|b64/);
      expect(row.data.length).toBeLessThan(1000);
    }
  });

  it('answers the guide\'s request 6 without a conversation', async () => {
    const before = await countRows(t, 'items');
    const res = await generate(alice, { prompt: 'A cute robot holding a coffee cup, digital art style', n: 1, size: '512x512', response_format: 'url' });
    expect(res.statusCode).toBe(200);
    const file = await fetchSigned(res.json().data[0].url);
    expect(await sharp(file.rawPayload).metadata()).toMatchObject({ width: 512, height: 512 });
    expect(await countRows(t, 'items')).toBe(before);
  });

  it('uses the defaults: one 1024x1024 image as a URL', async () => {
    const res = await generate(alice, { prompt: 'a lighthouse' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ size: '1024x1024', output_format: 'png', data: [{ id: expect.stringMatching(/^jan_/), url: expect.any(String) }] });
  });

  it('returns base64 that matches the stored media', async () => {
    const res = await generate(alice, { prompt: 'a red fox in the snow', response_format: 'b64_json', size: '512x512' });
    expect(res.statusCode).toBe(200);
    const [image] = res.json().data;
    expect(image.url).toBeUndefined();
    const bytes = Buffer.from(image.b64_json, 'base64');
    expect(await sharp(bytes).metadata()).toMatchObject({ format: 'png', width: 512, height: 512 });
    const stored = await t.as(alice.token, { method: 'GET', url: `/v1/media/${image.id}` });
    expect(stored.statusCode).toBe(200);
    expect(stored.rawPayload.equals(bytes)).toBe(true);
    expect(stored.headers.etag).toBe(`"${createHash('sha256').update(bytes).digest('hex')}"`);
  });

  it('makes n different images, each stored once', async () => {
    const before = await countRows(t, 'media');
    const res = await generate(alice, { prompt: 'three little boats on a lake', n: 3, size: '512x512' });
    expect(res.statusCode).toBe(200);
    const data = res.json().data as Array<{ id: string; url: string }>;
    expect(new Set(data.map((d) => d.id)).size).toBe(3);
    const hashes = await Promise.all(data.map(async (d) => (await fetchSigned(d.url)).headers.etag));
    expect(new Set(hashes).size).toBe(3);
    expect(await countRows(t, 'media')).toBe(before + 3);
  });

  it('with store: false keeps the image but not the history', async () => {
    const conv = await conversation(alice);
    const res = await generate(alice, { prompt: 'a quiet harbour', conversation_id: conv, store: false, size: '512x512' });
    expect(res.statusCode).toBe(200);
    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv}/items` })).json().data;
    expect(items).toEqual([]);
    expect((await t.as(alice.token, { method: 'GET', url: `/v1/media/${res.json().data[0].id}` })).statusCode).toBe(200);
  });

  it('accepts OpenAI\'s other image parameters with OpenAI\'s values', async () => {
    const res = await generate(alice, {
      prompt: 'a green hill',
      model: 'easel-demo-image',
      size: '512x512',
      quality: 'high',
      style: 'vivid',
      background: 'opaque',
      output_format: 'webp',
      output_compression: 80,
      moderation: 'low',
      user: 'user-1234',
      safety_identifier: 'hashed-user',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ output_format: 'webp', quality: 'high', background: 'opaque' });
    const file = await fetchSigned(res.json().data[0].url);
    expect(file.headers['content-type']).toBe('image/webp');
    expect(res.json().data[0].url).toContain('.webp?');
  });

  it.each<[string, unknown, string | null]>([
    ['missing prompt', { n: 1 }, 'prompt'],
    ['empty prompt', { prompt: '' }, 'prompt'],
    ['prompt not a string', { prompt: 42 }, 'prompt'],
    ['invalid size', { prompt: 'x', size: '256x256' }, 'size'],
    ['size not a string', { prompt: 'x', size: 1024 }, 'size'],
    ['n below 1', { prompt: 'x', n: 0 }, 'n'],
    ['n above 10', { prompt: 'x', n: 11 }, 'n'],
    ['n not an integer', { prompt: 'x', n: 1.5 }, 'n'],
    ['n as a string', { prompt: 'x', n: '2' }, 'n'],
    ['unknown response_format', { prompt: 'x', response_format: 'png' }, 'response_format'],
    ['store not a boolean', { prompt: 'x', store: 'yes' }, 'store'],
    ['conversation_id not a string', { prompt: 'x', conversation_id: 7 }, 'conversation_id'],
    ['model not a string', { prompt: 'x', model: 3 }, 'model'],
    ['unknown quality', { prompt: 'x', quality: 'ultra' }, 'quality'],
    ['unknown style', { prompt: 'x', style: 'baroque' }, 'style'],
    ['output_compression above 100', { prompt: 'x', output_compression: 101 }, 'output_compression'],
    ['unknown field', { prompt: 'x', colour: 'red' }, 'colour'],
    ['partial_images above 3', { prompt: 'x', stream: true, partial_images: 4 }, 'partial_images'],
    ['stream with n > 1', { prompt: 'x', stream: true, n: 2 }, 'n'],
  ])('400 for %s, naming the parameter', async (_name, payload, param) => {
    const before = await countRows(t, 'media');
    const res = await generate(alice, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ type: 'invalid_request_error', param });
    expect(await countRows(t, 'media')).toBe(before);
  });

  it('400 for a body that is not JSON', async () => {
    const res = await t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload: '{"prompt": ', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.type).toBe('invalid_request_error');
  });

  it('401 without a token or with a bad one', async () => {
    const none = await t.app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x' } });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.type).toBe('authentication_error');
    const bad = await t.as('not-a-token', { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x' } });
    expect(bad.statusCode).toBe(401);
  });

  it('404 for a conversation that is someone else\'s or does not exist, storing nothing', async () => {
    const bobs = await conversation(bob);
    const media = await countRows(t, 'media');
    const items = await countRows(t, 'items');
    for (const id of [bobs, 'conv_01jg8x0v9q4m6t2w7k3c5r8b1d']) {
      const res = await generate(alice, { prompt: 'x', conversation_id: id });
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toMatchObject({ type: 'not_found_error', param: 'conversation_id' });
    }
    expect(await countRows(t, 'media')).toBe(media);
    expect(await countRows(t, 'items')).toBe(items);
    expect((await t.as(bob.token, { method: 'GET', url: `/v1/conversations/${bobs}/items` })).json().data).toEqual([]);
  });
});

describe.each(DATABASES)('image feature flags on %s', (kind) => {
  it('IMAGE_GENERATION_ENABLED=false → 501 not_implemented_error', async () => {
    const t = await startApp(kind, { IMAGE_GENERATION_ENABLED: 'false' });
    try {
      const guest = await t.guest();
      const res = await t.as(guest.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x' } });
      expect(res.statusCode).toBe(501);
      expect(res.json().error.type).toBe('not_implemented_error');
      expect(await countRows(t, 'media')).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('IMAGE_PROVIDER_ENABLED=false → 404 "Image provider not configured"', async () => {
    const t = await startApp(kind, { IMAGE_PROVIDER_ENABLED: 'false' });
    try {
      const guest = await t.guest();
      const res = await t.as(guest.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x' } });
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toMatchObject({ type: 'not_found_error', message: 'Image provider not configured' });
      expect(await countRows(t, 'media')).toBe(0);
    } finally {
      await t.close();
    }
  });
});
