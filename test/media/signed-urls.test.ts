// Serving media: signed URLs without a token (checked before anything is looked up), and /v1/media for
// the owner with a token.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { NO_IMAGE_LIMIT } from '../images/support.ts';

describe.each(DATABASES)('media URLs on %s', (kind) => {
  let t: TestApp;
  let alice: Guest;
  let bob: Guest;
  let image: { id: string; url: string };

  beforeAll(async () => {
    t = await startApp(kind, NO_IMAGE_LIMIT);
    alice = await t.guest();
    bob = await t.guest();
    image = (await t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'a kite', size: '512x512' } })).json().data[0];
  });
  afterAll(() => t.close());

  const get = (pathAndQuery: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url: pathAndQuery, headers });
  const pathOf = (url: string) => new URL(url).pathname + new URL(url).search;
  const expectRefused = (res: Awaited<ReturnType<typeof get>>) => {
    expect(res.statusCode).toBe(403);
    expect(res.json().error.type).toBe('permission_error');
  };

  it('serves a signed URL without a token, with type, ETag and private caching up to the expiry', async () => {
    const res = await get(pathOf(image.url));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers.etag).toBe(`"${createHash('sha256').update(res.rawPayload).digest('hex')}"`);
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(String(res.headers['cache-control']))?.[1]);
    const exp = Number(new URL(image.url).searchParams.get('exp'));
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(exp - Math.floor(Date.now() / 1000) + 1);
    expect(maxAge).toBeLessThanOrEqual(3600);

    const again = await get(pathOf(image.url), { 'if-none-match': String(res.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
    expect((await get(pathOf(image.url), { 'if-none-match': '"something-else"' })).statusCode).toBe(200);
  });

  it('403 for a tampered, expired or unsigned URL', async () => {
    const url = new URL(image.url);
    const exp = url.searchParams.get('exp')!;
    const sig = url.searchParams.get('sig')!;
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    expectRefused(await get(`${url.pathname}?exp=${exp}&sig=${flipped}`));
    expectRefused(await get(`${url.pathname}?exp=${Number(exp) + 3600}&sig=${sig}`));
    expectRefused(await get(url.pathname));
    expectRefused(await get(`${url.pathname}?exp=${exp}`));
    // A signature for one image does not open another.
    const other = (await t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'another', size: '512x512' } })).json().data[0];
    expectRefused(await get(`/images/${other.id}.png?exp=${exp}&sig=${sig}`));
    // Signed in the past: correctly signed, but expired.
    const old = t.container.mediaUrls.url('http://x', image.id, 'image/png', Date.now() - 2 * 3600 * 1000);
    const expired = await get(pathOf(old));
    expectRefused(expired);
    expect(expired.json().error.message).toMatch(/expired/);
  });

  it('checks the signature before the id: an unknown id is 403 unsigned and 404 only when signed', async () => {
    const unknown = 'jan_01jg8x0v9q4m6t2w7k3c5r8b1d';
    expectRefused(await get(`/images/${unknown}.png`));
    expectRefused(await get(`/images/not-an-id.png?exp=99999999999&sig=abc`));
    const signed = await get(pathOf(t.container.mediaUrls.url('http://x', unknown, 'image/png')));
    expect(signed.statusCode).toBe(404);
    expect(signed.json().error.type).toBe('not_found_error');
  });

  it('serves /v1/media/{id} to its owner only', async () => {
    const own = await t.as(alice.token, { method: 'GET', url: `/v1/media/${image.id}` });
    expect(own.statusCode).toBe(200);
    expect(own.headers['content-type']).toBe('image/png');
    expect(own.rawPayload.equals((await get(pathOf(image.url))).rawPayload)).toBe(true);
    const other = await t.as(bob.token, { method: 'GET', url: `/v1/media/${image.id}` });
    expect(other.statusCode).toBe(404);
    expect(other.json().error.type).toBe('not_found_error');
    expect((await t.as(alice.token, { method: 'GET', url: '/v1/media/jan_01jg8x0v9q4m6t2w7k3c5r8b1d' })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/v1/media/${image.id}` })).statusCode).toBe(401);
  });
});

describe('media URLs under a public base with a path prefix', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp('sqlite', { ...NO_IMAGE_LIMIT, MEDIA_PUBLIC_URL: 'https://cdn.example.com/easel/' });
  });
  afterAll(() => t.close());

  it('signs URLs on the public base, and the route behind the prefix serves them', async () => {
    const guest = await t.guest();
    const [image] = (await t.as(guest.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x', size: '512x512' } })).json().data;
    expect(image.url).toMatch(new RegExp(`^https://cdn\\.example\\.com/easel/images/${image.id}\\.png\\?exp=\\d+&sig=`));
    // A proxy at cdn.example.com/easel/ passes /images/… on to Easel.
    const url = new URL(image.url);
    const res = await t.app.inject({ method: 'GET', url: url.pathname.replace(/^\/easel/, '') + url.search });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
  });
});
