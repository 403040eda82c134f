import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type TestApp } from '../helpers/app.ts';

/** The value of one sample line, e.g. `easel_http_requests_total{method="GET",...} 3`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp('sqlite');
  });
  afterAll(() => t.close());

  const scrape = async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return res.body;
  };

  it('counts and times requests by route pattern and status, never by raw URL', async () => {
    const guest = await t.guest();
    for (let i = 0; i < 3; i++) await t.as(guest.token, { method: 'GET', url: `/v1/conversations/conv_01jg8x0v9q4m6t2w7k3c5r8b${i}x` });
    await t.app.inject({ method: 'GET', url: '/no/such/route/secret-looking-path' });
    const text = await scrape();
    const labels = { method: 'GET', route: '/v1/conversations/:id', status: '404' };
    expect(sample(text, 'easel_http_requests_total', labels)).toBe(3);
    expect(sample(text, 'easel_http_request_duration_seconds_count', labels)).toBe(3);
    expect(sample(text, 'easel_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(3);
    expect(sample(text, 'easel_http_requests_total', { method: 'POST', route: '/auth/guest-login', status: '201' })).toBe(1);
    expect(sample(text, 'easel_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(text).not.toContain('conv_01jg8x0v9q4m6t2w7k3c5r8b');
    expect(text).not.toContain('secret-looking-path');
    // Process metrics come along.
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('exposes what services report: upstream latency, images, bytes, rate limiting', async () => {
    const { metrics } = t.container;
    metrics.observeUpstream('openai', 'gpt-4o-mini', 1.5, 'ok');
    metrics.observeUpstream('openai', 'gpt-4o-mini', 0.2, 'error');
    metrics.imagesGenerated('1024x1024', 3);
    metrics.bytesStored(2048);
    metrics.bytesStored(1024);
    metrics.rateLimited('images');
    const text = await scrape();
    expect(sample(text, 'easel_upstream_request_duration_seconds_count', { provider: 'openai', model: 'gpt-4o-mini', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'easel_upstream_request_duration_seconds_sum', { provider: 'openai', model: 'gpt-4o-mini', outcome: 'ok' })).toBe(1.5);
    expect(sample(text, 'easel_upstream_request_duration_seconds_count', { outcome: 'error' })).toBe(1);
    expect(sample(text, 'easel_images_generated_total', { size: '1024x1024' })).toBe(3);
    expect(sample(text, 'easel_media_stored_bytes_total')).toBe(3072);
    expect(sample(text, 'easel_rate_limited_total', { kind: 'images' })).toBe(1);
  });

  it('bounds the labels callers influence', async () => {
    for (let i = 0; i < 80; i++) t.container.metrics.observeUpstream('p', `model-${i}`, 0.1, 'ok');
    const text = await scrape();
    expect(sample(text, 'easel_upstream_request_duration_seconds_count', { provider: 'p', model: 'other' })).toBeGreaterThan(0);
    expect(text).not.toContain('model="model-79"');
  });

  it('keeps each app\'s numbers apart', async () => {
    const other = await startApp('sqlite');
    try {
      other.container.metrics.imagesGenerated('512x512', 7);
      const mine = await scrape();
      const theirs = (await other.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(sample(theirs, 'easel_images_generated_total', { size: '512x512' })).toBe(7);
      expect(sample(mine, 'easel_images_generated_total', { size: '512x512' })).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});

describe('metrics behind METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp('sqlite', { METRICS_TOKEN: 'scrape-token-0123456789' });
  });
  afterAll(() => t.close());

  it('refuses a scrape without the token, or with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'scrape-token-0123456789' }]) {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.type).toBe('authentication_error');
    }
    const ok = await t.as('scrape-token-0123456789', { method: 'GET', url: '/metrics' });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('easel_http_requests_total');
  });
});

describe.each(DATABASES)('database pool gauge on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(kind);
  });
  afterAll(() => t.close());

  it(kind === 'postgres' ? 'reports the pool\'s connections' : 'is absent: SQLite has no pool', async () => {
    await t.guest();
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const total = sample(text, 'easel_db_pool_connections', { state: 'total' });
    if (kind === 'postgres') {
      expect(total).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'easel_db_pool_connections', { state: 'waiting' })).toBe(0);
    } else {
      expect(total).toBeUndefined();
    }
  });
});
