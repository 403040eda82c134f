// An OpenAI-compatible image provider on a loopback port: both answer styles, short answers, failures of
// every kind, and what the upstream receives (its own key, never the user's token; the right path).
import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/server-process.ts';
import { blob, countRows, multipart, NO_IMAGE_LIMIT, parseSse, png, receivedForm, sendJson, startUpstream, textFields, type RecordedRequest, type Upstream } from './support.ts';

const PROVIDER_KEY = 'sk-provider-secret-0123456789';

/** Base64 style (gpt-image): n images inline. */
function base64Style(image: Buffer) {
  return (req: RecordedRequest, res: http.ServerResponse) => {
    const n = req.headers['content-type']?.startsWith('application/json') ? JSON.parse(req.body.toString()).n : 1;
    sendJson(res, 200, { created: 1, data: Array.from({ length: n }, () => ({ b64_json: image.toString('base64') })) });
  };
}

describe.each(DATABASES)('an OpenAI-compatible image provider on %s', (kind) => {
  let upstream: Upstream;
  let t: TestApp;
  let alice: Guest;
  let red: Buffer;
  let blue: Buffer;

  beforeAll(async () => {
    red = await png(64, 64, '#ff0000');
    blue = await png(32, 32, '#0000ff');
    upstream = await startUpstream(base64Style(red));
    t = await startApp(kind, {
      ...NO_IMAGE_LIMIT,
      IMAGE_PROVIDER_URL: `${upstream.origin}/v1`,
      IMAGE_PROVIDER_API_KEY: PROVIDER_KEY,
      // A hung upstream is given up on after one second.
      IMAGE_PROVIDER_TIMEOUT_SECONDS: '1',
    });
    alice = await t.guest();
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.requests.length = 0;
    upstream.handler = base64Style(red);
  });

  const generate = (payload: object) => t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload });
  const conversation = async () => (await t.as(alice.token, { method: 'POST', url: '/v1/conversations', payload: {} })).json().id as string;
  const signed = (url: string) => t.app.inject({ method: 'GET', url: new URL(url).pathname + new URL(url).search });

  it('takes base64 wrapped over lines, as some providers send it', async () => {
    upstream.handler = (_req, res) => sendJson(res, 200, { data: [{ b64_json: red.toString('base64').replace(/(.{76})/g, '$1\n') }] });
    const res = await generate({ prompt: 'wrapped', response_format: 'b64_json' });
    expect(res.statusCode).toBe(200);
    expect(Buffer.from(res.json().data[0].b64_json, 'base64').equals(red)).toBe(true);
    upstream.handler = base64Style(red);
  });

  it('takes base64 answers, sending the provider key (never the user token) to /v1/images/generations', async () => {
    const res = await generate({ prompt: 'a red square', n: 2, size: '1024x1024' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toHaveLength(2);
    expect(upstream.requests).toHaveLength(1);
    const [req] = upstream.requests;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/v1/images/generations');
    expect(req!.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(JSON.stringify(req!.headers)).not.toContain(alice.token);
    // No model named, so response_format is left out (gpt-image models refuse it) and handled either way.
    expect(JSON.parse(req!.body.toString())).toEqual({ prompt: 'a red square', n: 2, size: '1024x1024' });
    const file = await signed(res.json().data[0].url);
    expect(file.rawPayload.equals(red)).toBe(true);
  });

  it('hands back and keeps the very bytes decoded from a base64 answer, as b64_json and as a stored file', async () => {
    const res = await generate({ prompt: 'a red square', n: 2, response_format: 'b64_json' });
    expect(res.statusCode).toBe(200);
    for (const image of res.json().data) {
      expect(Buffer.from(image.b64_json, 'base64').equals(red)).toBe(true);
      const media = await t.as(alice.token, { method: 'GET', url: `/v1/media/${image.id}` });
      expect(media.statusCode).toBe(200);
      expect(media.rawPayload.equals(red)).toBe(true);
    }
  });

  it('passes OpenAI\'s parameters on, and asks dall-e models for base64', async () => {
    await generate({ prompt: 'x', model: 'gpt-image-1', quality: 'high', background: 'transparent', output_format: 'png', moderation: 'low', user: 'u-1' });
    expect(JSON.parse(upstream.requests[0]!.body.toString())).toEqual({
      prompt: 'x', n: 1, size: '1024x1024', model: 'gpt-image-1', quality: 'high', background: 'transparent', output_format: 'png', moderation: 'low', user: 'u-1',
    });
    await generate({ prompt: 'x', model: 'dall-e-2', response_format: 'url' });
    expect(JSON.parse(upstream.requests[1]!.body.toString())).toMatchObject({ model: 'dall-e-2', response_format: 'b64_json' });
  });

  it('downloads URL answers at once, so the image outlives the provider\'s short-lived link', async () => {
    const served = new Set<string>();
    upstream.handler = (req, res, up) => {
      if (req.path.startsWith('/files/')) {
        // Each link works once, then is gone.
        if (served.has(req.path)) return sendJson(res, 404, { error: 'expired' });
        served.add(req.path);
        res.writeHead(200, { 'content-type': 'image/png' });
        return res.end(blue);
      }
      sendJson(res, 200, { created: 1, data: [{ url: `${up.origin}/files/${Math.random().toString(36).slice(2)}.png`, revised_prompt: 'a blue square, revised' }] });
    };
    const conv = await conversation();
    const res = await generate({ prompt: 'a blue square', conversation_id: conv, response_format: 'url' });
    expect(res.statusCode).toBe(200);
    const [image] = res.json().data;
    expect(image.revised_prompt).toBe('a blue square, revised');
    const [fileRequest] = upstream.requests.filter((r) => r.path.startsWith('/files/'));
    // The link was used and is gone upstream, but Easel still serves the image, with a fresh URL each read.
    expect((await fetch(`${upstream.origin}${fileRequest!.path}`)).status).toBe(404);
    expect((await signed(image.url)).rawPayload.equals(blue)).toBe(true);
    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv}/items?order=asc` })).json().data;
    expect((await signed(items[1].images[0].url)).rawPayload.equals(blue)).toBe(true);
    // Same origin as the provider: the download carried the provider key, not the user's token.
    expect(fileRequest!.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
  });

  it('gives b64_json to the caller even when the provider answered with a URL', async () => {
    upstream.handler = (req, res, up) => {
      if (req.path === '/files/one.png') {
        res.writeHead(200, { 'content-type': 'image/png' });
        return res.end(blue);
      }
      sendJson(res, 200, { data: [{ url: `${up.origin}/files/one.png` }] });
    };
    const res = await generate({ prompt: 'x', response_format: 'b64_json' });
    expect(Buffer.from(res.json().data[0].b64_json, 'base64').equals(blue)).toBe(true);
  });

  it('asks again until n images are in when the provider makes one per call', async () => {
    upstream.handler = (_req, res) => sendJson(res, 200, { data: [{ b64_json: red.toString('base64') }] });
    const res = await generate({ prompt: 'four of them', n: 4 });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toHaveLength(4);
    expect(new Set(res.json().data.map((d: { id: string }) => d.id)).size).toBe(4);
    expect(upstream.requests).toHaveLength(4);
    expect(upstream.requests.map((r) => JSON.parse(r.body.toString()).n)).toEqual([4, 1, 1, 1]);
  });

  describe('failures: 500 provider_error, nothing stored, no key in the message', () => {
    const cases: Array<[string, (req: RecordedRequest, res: http.ServerResponse) => void, RegExp]> = [
      ['an upstream 500', (_req, res) => sendJson(res, 500, { error: { message: 'model overloaded' } }), /HTTP 500: model overloaded/],
      ['an upstream error that quotes the key', (_req, res) => sendJson(res, 401, { error: { message: `Incorrect API key provided: ${PROVIDER_KEY}` } }), /HTTP 401: Incorrect API key provided: \[redacted\]/],
      ['a hang', () => undefined, /did not answer within 1 s/],
      ['garbage instead of JSON', (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"data": [garbage'); }, /not JSON/],
      ['JSON without images', (_req, res) => sendJson(res, 200, { created: 1 }), /no data array/],
      ['an empty list of images', (_req, res) => sendJson(res, 200, { data: [] }), /no images/],
      ['bytes that are not an image', (_req, res) => sendJson(res, 200, { data: [{ b64_json: Buffer.from('hello, not a picture').toString('base64') }] }), /not a PNG, JPEG or WebP/],
      ['base64 with characters outside the alphabet', (_req, res) => sendJson(res, 200, { data: [{ b64_json: `${red.toString('base64').slice(0, 40)}!*${red.toString('base64').slice(40)}` }] }), /not valid base64/],
      ['a URL that fails to download', (_req, res) => sendJson(res, 200, { data: [{ url: 'http://127.0.0.1:1/nothing.png' }] }), /Could not reach the image provider/],
    ];
    it.each(cases)('%s', async (_name, handler, message) => {
      upstream.handler = handler;
      const conv = await conversation();
      const media = await countRows(t, 'media');
      const items = await countRows(t, 'items');
      const res = await generate({ prompt: 'x', conversation_id: conv });
      expect(res.statusCode).toBe(500);
      expect(res.json().error).toMatchObject({ type: 'provider_error', message: expect.stringMatching(message) });
      expect(res.body).not.toContain(PROVIDER_KEY);
      expect(await countRows(t, 'media')).toBe(media);
      expect(await countRows(t, 'items')).toBe(items);
    });

    it('a failure on a later call of a batch keeps none of the batch', async () => {
      let calls = 0;
      upstream.handler = (_req, res) => (++calls === 3 ? sendJson(res, 502, { error: { message: 'bad gateway' } }) : sendJson(res, 200, { data: [{ b64_json: red.toString('base64') }] }));
      const media = await countRows(t, 'media');
      const res = await generate({ prompt: 'x', n: 4 });
      expect(res.statusCode).toBe(500);
      expect(await countRows(t, 'media')).toBe(media);
    });
  });

  it('does not send a call again when the provider resets a kept-alive connection after reading it: it may have begun, and billed, the work', async () => {
    expect((await generate({ prompt: 'keeps a connection alive' })).statusCode).toBe(200);
    let reset = true;
    upstream.handler = (req, res) => {
      if (!reset) return base64Style(red)(req, res);
      reset = false;
      res.socket!.resetAndDestroy();
    };
    upstream.requests.length = 0;
    const media = await countRows(t, 'media');
    const res = await generate({ prompt: 'x' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toMatchObject({ type: 'provider_error', message: expect.stringMatching(/image provider.*(reset|hang up)/i) });
    expect(upstream.requests).toHaveLength(1);
    expect(await countRows(t, 'media')).toBe(media);
  });

  it('forwards edits as multipart to /v1/images/edits', async () => {
    const mask = await png(64, 64, '#000000');
    const form = await multipart({ 'image[]': [blob(red, 'image/png'), blob(blue, 'image/png')], mask: blob(mask, 'image/png'), prompt: 'make it blue', n: '2', model: 'gpt-image-1', quality: 'low' });
    const res = await t.as(alice.token, { method: 'POST', url: '/v1/images/edits', ...form });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toHaveLength(2);
    const [req] = upstream.requests;
    expect(req!.path).toBe('/v1/images/edits');
    expect(req!.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(req!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const received = await receivedForm(req!);
    const images = received.getAll('image[]') as File[];
    expect(images).toHaveLength(2);
    expect(Buffer.from(await images[0]!.arrayBuffer()).equals(red)).toBe(true);
    expect(Buffer.from(await images[1]!.arrayBuffer()).equals(blue)).toBe(true);
    expect(images[0]!.type).toBe('image/png');
    expect(Buffer.from(await (received.get('mask') as File).arrayBuffer()).equals(mask)).toBe(true);
    expect(textFields(received)).toEqual({ prompt: 'make it blue', n: '2', model: 'gpt-image-1', quality: 'low' });
  });

  it('sends a single edit image as `image`', async () => {
    const res = await t.as(alice.token, { method: 'POST', url: '/v1/images/edits', payload: { prompt: 'x', image: { b64_json: blue.toString('base64') }, size: '1024x1024' } });
    expect(res.statusCode).toBe(200);
    const received = await receivedForm(upstream.requests[0]!);
    expect(received.getAll('image')).toHaveLength(1);
    expect(received.get('size')).toBe('1024x1024');
  });

  it('relays a provider\'s streamed partial images, then stores the final one', async () => {
    const partial = await png(16, 16, '#888888');
    upstream.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const event = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
      event('image_generation.partial_image', { b64_json: partial.toString('base64'), partial_image_index: 0 });
      event('image_generation.completed', { b64_json: red.toString('base64'), usage: { input_tokens: 5, output_tokens: 100, total_tokens: 105, input_tokens_details: { image_tokens: 0, text_tokens: 5 } } });
      res.end();
    };
    const conv = await conversation();
    const res = await generate({ prompt: 'x', model: 'gpt-image-1', stream: true, partial_images: 1, conversation_id: conv });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(JSON.parse(upstream.requests[0]!.body.toString())).toMatchObject({ stream: true, partial_images: 1 });
    const events = parseSse(res.body);
    expect(events.map((e) => e.event)).toEqual(['image_generation.partial_image', 'image_generation.completed']);
    expect(Buffer.from(events[0]!.data.b64_json, 'base64').equals(partial)).toBe(true);
    const completed = events[1]!.data;
    expect(completed.usage.total_tokens).toBe(105);
    expect((await signed(completed.url)).rawPayload.equals(red)).toBe(true);
    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv}/items?order=asc` })).json().data;
    expect(items[1].images[0].id).toBe(completed.id);
  });

  it('sends a non-streaming provider\'s image alone as the completed event', async () => {
    const res = await generate({ prompt: 'x', stream: true, partial_images: 2 });
    expect(JSON.parse(upstream.requests[0]!.body.toString()).stream).toBeUndefined();
    expect(parseSse(res.body).map((e) => e.event)).toEqual(['image_generation.completed']);
  });

  it('answers a stream that fails before its first event with a JSON provider_error', async () => {
    upstream.handler = (_req, res) => sendJson(res, 503, { error: { message: 'busy' } });
    const res = await generate({ prompt: 'x', stream: true });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.type).toBe('provider_error');
  });
});

describe.each(DATABASES)('reaching the image provider on %s', (kind) => {
  it('takes a base URL without /v1 and does not double one', async () => {
    const red = await png(8, 8);
    const upstream = await startUpstream(base64Style(red));
    const bare = await startApp(kind, { IMAGE_PROVIDER_URL: upstream.origin });
    const versioned = await startApp(kind, { IMAGE_PROVIDER_URL: `${upstream.origin}/v1/` });
    try {
      for (const t of [bare, versioned]) {
        const guest = await t.guest();
        expect((await t.as(guest.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x' } })).statusCode).toBe(200);
      }
      expect(upstream.requests.map((r) => r.path)).toEqual(['/v1/images/generations', '/v1/images/generations']);
      // No key configured: none is sent.
      expect(upstream.requests[0]!.headers.authorization).toBeUndefined();
    } finally {
      await bare.close();
      await versioned.close();
      await upstream.close();
    }
  });

  it('a refused connection is a provider_error and stores nothing', async () => {
    const port = await freePort();
    const t = await startApp(kind, { IMAGE_PROVIDER_URL: `http://127.0.0.1:${port}/v1`, IMAGE_PROVIDER_API_KEY: PROVIDER_KEY });
    try {
      const guest = await t.guest();
      const res = await t.as(guest.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x' } });
      expect(res.statusCode).toBe(500);
      expect(res.json().error).toMatchObject({ type: 'provider_error', message: expect.stringContaining('connection refused') });
      expect(res.body).not.toContain(PROVIDER_KEY);
      expect(await countRows(t, 'media')).toBe(0);
    } finally {
      await t.close();
    }
  });
});

