// The static web app route: what it serves, its headers, and what it refuses to serve.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { contentSecurityPolicy } from '../../src/http/web.ts';

describe('web app route', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp('sqlite', { MEDIA_PUBLIC_URL: 'https://media.example.com/easel' });
  });
  afterAll(() => t.close());

  it('serves the page at / with a strict policy that also admits the media origin for images', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("img-src 'self' data: blob: https://media.example.com;");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toContain('<script type="module" src="/assets/js/main.js">');
  });

  it('serves assets with their content type, and a 304 when the ETag matches', async () => {
    for (const [url, type] of [['/assets/js/main.js', 'text/javascript; charset=utf-8'], ['/assets/styles.css', 'text/css; charset=utf-8'], ['/assets/favicon.svg', 'image/svg+xml']]) {
      const res = await t.app.inject({ method: 'GET', url: url! });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe(type);
      expect(res.headers['cache-control']).toBe('no-cache');
      const again = await t.app.inject({ method: 'GET', url: url!, headers: { 'if-none-match': String(res.headers.etag) } });
      expect(again.statusCode, url).toBe(304);
      expect(again.body).toBe('');
    }
  });

  it('answers 404 in the API error shape for anything that is not one of its files', async () => {
    for (const url of ['/assets/nope.js', '/assets/../package.json', '/assets/%2e%2e/%2e%2e/package.json', '/assets/..%2f..%2fsrc%2fconfig.ts', '/assets/js/%2e%2e/%2e%2e/%2e%2e/src/config.ts', '/assets/', '/assets/js']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.type, url).toBe('not_found_error');
    }
  });

  it('is left out of the OpenAPI document', async () => {
    const paths = Object.keys((await t.app.inject({ method: 'GET', url: '/openapi.json' })).json().paths);
    expect(paths).not.toContain('/');
    expect(paths.some((p) => p.startsWith('/assets'))).toBe(false);
  });

  it('lists only self and the media origin in the policy', () => {
    expect(contentSecurityPolicy(undefined)).toContain("img-src 'self' data: blob:;");
  });
});
