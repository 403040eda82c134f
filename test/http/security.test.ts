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
