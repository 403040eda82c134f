// /v1/images/edits with the demo model: OpenAI's multipart form, Easel's JSON references, limits, history.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { blob, countRows, GIF, halfMask, jpeg, multipart, NO_IMAGE_LIMIT, png } from './support.ts';

describe.each(DATABASES)('image edits on %s', (kind) => {
  let t: TestApp;
  let alice: Guest;
  let bob: Guest;
  let red: Buffer;

  beforeAll(async () => {
    t = await startApp(kind, NO_IMAGE_LIMIT);
    alice = await t.guest();
    bob = await t.guest();
    red = await png(96, 64, '#ff0000');
  });
  afterAll(() => t.close());

  const editForm = async (guest: Guest, fields: Parameters<typeof multipart>[0]) =>
    t.as(guest.token, { method: 'POST', url: '/v1/images/edits', ...(await multipart(fields)) });
  const editJson = (guest: Guest, payload: object) => t.as(guest.token, { method: 'POST', url: '/v1/images/edits', payload });
  const conversation = async (guest: Guest) => (await t.as(guest.token, { method: 'POST', url: '/v1/conversations', payload: {} })).json().id as string;
  const media = (guest: Guest, id: string) => t.as(guest.token, { method: 'GET', url: `/v1/media/${id}` });
  const decoded = (b64: string) => sharp(Buffer.from(b64, 'base64'));

  it('edits an uploaded file, keeping its size by default, and links input and output in the conversation', async () => {
    const conv = await conversation(alice);
    const res = await editForm(alice, { image: blob(red, 'image/png'), prompt: 'make it blue', conversation_id: conv, response_format: 'b64_json' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.size).toBe('96x64');
    const out = body.data[0];
    expect(await decoded(out.b64_json).metadata()).toMatchObject({ format: 'png', width: 96, height: 64 });

    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv}/items?order=asc` })).json().data;
    expect(items).toHaveLength(2);
    const [message, call] = items;
    expect(message.content[0]).toEqual({ type: 'input_text', text: 'make it blue' });
    expect(message.content[1]).toMatchObject({ type: 'input_image', file_id: expect.stringMatching(/^jan_/), image_url: expect.stringContaining('/images/jan_') });
    expect(call).toMatchObject({ type: 'image_generation_call', action: 'edit', prompt: 'make it blue', model: 'easel-demo-image', size: '96x64', images: [{ id: out.id }] });
    // The input was stored too, byte for byte, and belongs to the caller.
    const input = await media(alice, message.content[1].file_id);
    expect(input.rawPayload.equals(red)).toBe(true);
    expect((await media(bob, message.content[1].file_id)).statusCode).toBe(404);
  });

  it('takes several images as image[], a mask the size of the first, and n as a form string', async () => {
    const blue = await jpeg(40, 40);
    const res = await editForm(alice, {
      'image[]': [blob(red), blob(blue)],
      mask: blob(await halfMask(96, 64)),
      prompt: 'a blue sky',
      n: '2',
      size: '512x512',
      store: 'false',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toHaveLength(2);
    expect(res.json().size).toBe('512x512');
  });

  it.each<[string, Record<string, string>, string, number]>([
    ['n that is not a number', { n: 'two' }, 'n', 400],
    ['n out of range', { n: '11' }, 'n', 400],
    ['n with a fraction', { n: '1.5' }, 'n', 400],
    ['store that is not a boolean', { store: 'yes' }, 'store', 400],
    ['an unknown size', { size: '300x300' }, 'size', 400],
    ['an unknown field', { colour: 'red' }, 'colour', 400],
    ['partial_images out of range', { stream: 'true', partial_images: '5' }, 'partial_images', 400],
  ])('400 for %s in a form, naming it', async (_name, fields, param, status) => {
    const res = await editForm(alice, { image: blob(red), prompt: 'x', ...fields });
    expect(res.statusCode).toBe(status);
    expect(res.json().error).toMatchObject({ type: 'invalid_request_error', param });
  });

  it('400 for a form without image or prompt', async () => {
    const noImage = await editForm(alice, { prompt: 'x' });
    expect(noImage.statusCode).toBe(400);
    expect(noImage.json().error.param).toBe('image');
    const noPrompt = await editForm(alice, { image: blob(red) });
    expect(noPrompt.json().error.param).toBe('prompt');
  });

  it('refuses uploads that are not PNG, JPEG or WebP, whatever they claim to be', async () => {
    for (const bytes of [GIF, Buffer.from('just some text, labelled as a png')]) {
      const res = await editForm(alice, { image: blob(bytes, 'image/png'), prompt: 'x' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ type: 'invalid_request_error', param: 'image', code: 'invalid_image_format' });
    }
  });

  it('checks the mask: a PNG of the first image\'s size', async () => {
    const wrongSize = await editForm(alice, { image: blob(red), mask: blob(await halfMask(64, 64)), prompt: 'x' });
    expect(wrongSize.statusCode).toBe(400);
    expect(wrongSize.json().error).toMatchObject({ param: 'mask', code: 'invalid_mask_size' });
    const notPng = await editForm(alice, { image: blob(red), mask: blob(await jpeg(96, 64)), prompt: 'x' });
    expect(notPng.statusCode).toBe(400);
    expect(notPng.json().error.param).toBe('mask');
  });

  it('edits the caller\'s own stored image by id (JSON) and 404s on anyone else\'s', async () => {
    const generated = (await t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'a garden', size: '512x512' } })).json().data[0];
    const conv = await conversation(alice);
    const res = await editJson(alice, { image: { id: generated.id }, prompt: 'at night', conversation_id: conv });
    expect(res.statusCode).toBe(200);
    expect(res.json().size).toBe('512x512');
    const [message] = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv}/items?order=asc` })).json().data;
    // The input is referenced, not copied.
    expect(message.content[1].file_id).toBe(generated.id);

    const media = await countRows(t, 'media');
    const stolen = await editJson(bob, { image: { id: generated.id }, prompt: 'mine now' });
    expect(stolen.statusCode).toBe(404);
    expect(stolen.json().error).toMatchObject({ type: 'not_found_error', param: 'image' });
    const unknown = await editJson(bob, { image: [{ b64_json: red.toString('base64') }, { id: 'jan_01jg8x0v9q4m6t2w7k3c5r8b1d' }], prompt: 'x' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.param).toBe('image[1]');
    expect(await countRows(t, 'media')).toBe(media);
  });

  it('takes base64 and data URLs in JSON, alone or in a list', async () => {
    const b64 = red.toString('base64');
    for (const image of [{ b64_json: b64 }, `data:image/png;base64,${b64}`, [{ b64_json: b64 }, `data:image/png;base64,${b64}`]]) {
      const res = await editJson(alice, { image, prompt: 'x', size: '512x512' });
      expect(res.statusCode).toBe(200);
    }
  });

  it.each<[string, unknown, string, string | null]>([
    ['an http URL (never fetched)', 'http://169.254.169.254/latest/meta-data', 'image', 'unsupported_image_url'],
    ['an https URL in a list', [{ b64_json: 'AAAA' }, 'https://example.com/cat.png'], 'image[1]', 'unsupported_image_url'],
    ['a data URL that is not base64', 'data:image/png,hello', 'image', 'invalid_image'],
    ['broken base64', { b64_json: '!!!not base64!!!' }, 'image', 'invalid_base64'],
    ['an unknown reference field', { url: 'https://example.com/cat.png' }, 'image.url', 'unknown_parameter'],
    ['an empty reference', {}, 'image', 'invalid_value'],
    ['seventeen images', Array.from({ length: 17 }, () => ({ id: 'jan_x' })), 'image', 'invalid_value'],
  ])('400 for %s', async (_name, image, param, code) => {
    const res = await editJson(alice, { image, prompt: 'x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ type: 'invalid_request_error', param, code });
  });

  it('400 for a body-less request', async () => {
    const res = await t.as(alice.token, { method: 'POST', url: '/v1/images/edits' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.param).toBe('prompt');
  });

  it('stores nothing when an edit is refused', async () => {
    const conv = await conversation(alice);
    const media = await countRows(t, 'media');
    const items = await countRows(t, 'items');
    await editForm(alice, { image: blob(red), mask: blob(await halfMask(10, 10)), prompt: 'x', conversation_id: conv });
    await editJson(alice, { image: { b64_json: GIF.toString('base64') }, prompt: 'x', conversation_id: conv });
    expect(await countRows(t, 'media')).toBe(media);
    expect(await countRows(t, 'items')).toBe(items);
  });
});

describe.each(DATABASES)('image edit size limits on %s', (kind) => {
  const LIMIT = 16 * 1024;
  let t: TestApp;
  let guest: Guest;
  let oversized: Buffer;
  let small: Buffer;

  beforeAll(async () => {
    t = await startApp(kind, { ...NO_IMAGE_LIMIT, MAX_IMAGE_BYTES: String(LIMIT) });
    guest = await t.guest();
    // Valid PNG bytes followed by padding: the size check needs nothing more.
    oversized = Buffer.concat([await png(8, 8), Buffer.alloc(LIMIT + 100)]);
    // Just under the limit each, so that five of them pass one by one but not together.
    small = Buffer.concat([await png(8, 8), Buffer.alloc(LIMIT - 200)]);
  });
  afterAll(() => t.close());

  it('413 for an upload over MAX_IMAGE_BYTES, in a form and in JSON', async () => {
    expect(oversized.length).toBeGreaterThan(LIMIT);
    const form = await t.as(guest.token, { method: 'POST', url: '/v1/images/edits', ...(await multipart({ image: blob(oversized), prompt: 'x' })) });
    expect(form.statusCode).toBe(413);
    expect(form.json().error).toMatchObject({ type: 'invalid_request_error', param: 'image', message: expect.stringContaining("Image 'image'") });
    const mask = await t.as(guest.token, { method: 'POST', url: '/v1/images/edits', ...(await multipart({ image: blob(small), mask: blob(oversized), prompt: 'x' })) });
    expect(mask.statusCode).toBe(413);
    expect(mask.json().error.param).toBe('mask');
    const json = await t.as(guest.token, { method: 'POST', url: '/v1/images/edits', payload: { image: { b64_json: oversized.toString('base64') }, prompt: 'x' } });
    expect(json.statusCode).toBe(413);
    expect(json.json().error.param).toBe('image');
    expect(await countRows(t, 'media')).toBe(0);
  });

  it('413 when the images together are over the total limit', async () => {
    const form = await t.as(guest.token, { method: 'POST', url: '/v1/images/edits', ...(await multipart({ 'image[]': Array.from({ length: 6 }, () => blob(small)), prompt: 'x' })) });
    expect(form.statusCode).toBe(413);
    expect(form.json().error.param).toBe('image');
    const json = await t.as(guest.token, { method: 'POST', url: '/v1/images/edits', payload: { image: Array.from({ length: 5 }, () => ({ b64_json: small.toString('base64') })), prompt: 'x' } });
    expect(json.statusCode).toBe(413);
  });
});
