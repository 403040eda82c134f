import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';

describe('security headers and CORS', () => {
  let closed: TestApp;
  let open: TestApp;
  beforeAll(async () => {
    closed = await startApp('sqlite');
    open = await startApp('sqlite', { CORS_ORIGINS: 'https://app.example' });
  });
  afterAll(async () => {
    await closed.close();
    await open.close();
  });

  it('sets security headers on answers and errors', async () => {
    for (const url of ['/healthz', '/v1/conversations', '/nope']) {
      const res = await closed.app.inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['content-security-policy'], url).toContain("default-src 'none'");
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
    }
  });

  it('sets them too where Fastify answers before any hook (undecodable paths)', async () => {
    const res = await closed.app.inject({ method: 'GET', url: '/v1/conversations/%' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_url' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('refuses script and file URLs as stored image URLs', async () => {
    const guest = await closed.guest();
    for (const image_url of ['javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,<script>1</script>']) {
      const res = await closed.as(guest.token, {
        method: 'POST',
        url: '/v1/conversations',
        payload: { items: [{ role: 'user', content: [{ type: 'input_image', image_url }] }] },
      });
      expect(res.statusCode, image_url).toBe(400);
      expect(res.json().error.param).toBe('items[0].content');
    }
    const ok = await closed.as(guest.token, {
      method: 'POST',
      url: '/v1/conversations',
      payload: { items: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/cat.png' }] }] },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('CORS is off by default', async () => {
    const res = await closed.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://app.example' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await closed.app.inject({ method: 'OPTIONS', url: '/v1/conversations', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('CORS answers only configured origins', async () => {
    const res = await open.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://app.example' } });
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(res.headers.vary).toContain('Origin');
    const other = await open.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await open.app.inject({ method: 'OPTIONS', url: '/v1/conversations', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
  });
});
