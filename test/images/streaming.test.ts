// stream: true on generations and edits: OpenAI's server-sent events, with the final image stored and
// linked before the completed event goes out.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { blob, multipart, NO_IMAGE_LIMIT, parseSse, png } from './support.ts';

describe.each(DATABASES)('streamed images on %s', (kind) => {
  let t: TestApp;
  let alice: Guest;

  beforeAll(async () => {
    t = await startApp(kind, NO_IMAGE_LIMIT);
    alice = await t.guest();
  });
  afterAll(() => t.close());

  const conversation = async () => (await t.as(alice.token, { method: 'POST', url: '/v1/conversations', payload: {} })).json().id as string;

  it('sends partial images, then a completed event carrying the stored image\'s id and URL', async () => {
    const conv = await conversation();
    const res = await t.as(alice.token, {
      method: 'POST',
      url: '/v1/images/generations',
      payload: { prompt: 'a lighthouse at night', size: '512x512', stream: true, partial_images: 2, conversation_id: conv, quality: 'high' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = parseSse(res.body);
    expect(events.map((e) => e.event)).toEqual(['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed']);
    for (const [index, { data }] of events.slice(0, 2).entries()) {
      expect(data).toMatchObject({ type: 'image_generation.partial_image', partial_image_index: index, size: '512x512', quality: 'high', background: 'auto', output_format: 'png', created_at: expect.any(Number) });
      expect((await sharp(Buffer.from(data.b64_json, 'base64')).metadata()).width).toBe(512);
    }
    const completed = events[2]!.data;
    expect(completed).toMatchObject({ type: 'image_generation.completed', size: '512x512', output_format: 'png', id: expect.stringMatching(/^jan_/), url: expect.stringContaining('/images/jan_') });
    expect(completed.usage).toMatchObject({ total_tokens: expect.any(Number), input_tokens_details: expect.any(Object) });
    const stored = await t.as(alice.token, { method: 'GET', url: `/v1/media/${completed.id}` });
    expect(stored.rawPayload.equals(Buffer.from(completed.b64_json, 'base64'))).toBe(true);
    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv}/items?order=asc` })).json().data;
    expect(items.map((i: { type: string }) => i.type)).toEqual(['message', 'image_generation_call']);
    expect(items[1].images[0].id).toBe(completed.id);
  });

  it('streams edits as image_edit events, from a multipart form', async () => {
    const form = await multipart({ image: blob(await png(64, 64)), prompt: 'make it purple', stream: 'true', partial_images: '1' });
    const res = await t.as(alice.token, { method: 'POST', url: '/v1/images/edits', ...form });
    expect(res.statusCode).toBe(200);
    const events = parseSse(res.body);
    expect(events.map((e) => e.event)).toEqual(['image_edit.partial_image', 'image_edit.completed']);
    expect(events[1]!.data).toMatchObject({ type: 'image_edit.completed', size: '64x64', id: expect.stringMatching(/^jan_/) });
  });

  it('sends the final image alone with partial_images 0', async () => {
    const res = await t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x', size: '512x512', stream: true } });
    expect(parseSse(res.body).map((e) => e.event)).toEqual(['image_generation.completed']);
  });

  it('refuses n > 1 with stream, like OpenAI', async () => {
    const res = await t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x', stream: true, n: 2 } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ type: 'invalid_request_error', param: 'n' });
  });
});
