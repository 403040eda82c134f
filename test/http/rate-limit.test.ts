import fs from 'node:fs';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createContainer } from '../../src/container.ts';
import { buildApp } from '../../src/app.ts';
import { registerErrorHandlers } from '../../src/http/errors.ts';
import { registerRateLimits } from '../../src/http/rate-limit.ts';
import { unauthorized } from '../../src/lib/errors.ts';
import { MemoryWindowCounter } from '../../src/store/rate-counters/memory.ts';
import { REDIS_URL, startApp, testEnv, type TestApp } from '../helpers/app.ts';
import { deleteRedisKeys, redisKeys, redisPrefix } from '../helpers/redis.ts';
import { freePort } from '../helpers/server-process.ts';

const guestLogin = (t: TestApp, remoteAddress = '203.0.113.7') =>
  t.app.inject({ method: 'POST', url: '/auth/guest-login', payload: {}, remoteAddress });

function expectRateLimited(res: { statusCode: number; headers: Record<string, unknown>; json(): any }, windowSeconds: number) {
  expect(res.statusCode).toBe(429);
  expect(res.json()).toEqual({
    error: { message: expect.stringMatching(/^Rate limit reached for .+ Please try again in \d+s\.$/), type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' },
  });
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(res.headers['x-ratelimit-remaining-requests']).toBe('0');
}

describe('guest login rate limit, counted in memory', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp('sqlite', { RATE_LIMIT_GUEST_LOGIN: '3/min' });
  });
  afterAll(() => t.close());

  it('allows the limit per IP, then answers 429 in OpenAI shape with Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await guestLogin(t);
      expect(res.statusCode).toBe(201);
      expect(res.headers['x-ratelimit-limit-requests']).toBe('3');
      expect(res.headers['x-ratelimit-remaining-requests']).toBe(String(2 - i));
    }
    const refused = await guestLogin(t);
    expectRateLimited(refused, 60);
    expect(refused.headers['x-request-id']).toBeDefined();
    expect(refused.json().error.message).toContain('guest logins');
    expect(refused.json().error.message).toContain('3/min');
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/easel_rate_limited_total\{kind="guestLogin"\} 1\b/);
  });

  it('counts each IP (and each IPv6 /64) on its own', async () => {
    expect((await guestLogin(t, '198.51.100.1')).statusCode).toBe(201);
    for (let i = 0; i < 3; i++) expect((await guestLogin(t, `2001:db8:1:2::${i + 1}`)).statusCode).toBe(201);
    expect((await guestLogin(t, '2001:db8:1:2:ffff::9')).statusCode).toBe(429);
    expect((await guestLogin(t, '2001:db8:1:3::1')).statusCode).toBe(201);
  });

  it('leaves routes without a rate limit kind alone', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '203.0.113.7' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-ratelimit-limit-requests']).toBeUndefined();
  });
});

describe('guest login rate limit behind a reverse proxy (TRUST_PROXY)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp('sqlite', { RATE_LIMIT_GUEST_LOGIN: '1/min', TRUST_PROXY: '1' });
  });
  afterAll(() => t.close());

  const viaProxy = (client: string) =>
    t.app.inject({ method: 'POST', url: '/auth/guest-login', payload: {}, remoteAddress: '10.0.0.2', headers: { 'x-forwarded-for': client } });

  it('counts the client from X-Forwarded-For, not the proxy', async () => {
    expect((await viaProxy('198.51.100.10')).statusCode).toBe(201);
    expect((await viaProxy('198.51.100.11')).statusCode).toBe(201);
    expect((await viaProxy('198.51.100.10')).statusCode).toBe(429);
  });
});

describe('chat completions rate limit on the real route', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp('sqlite', { RATE_LIMIT_CHAT: '2/min' });
  });
  afterAll(() => t.close());

  it('limits each user, streaming or not', async () => {
    const alice = await t.guest();
    const bob = await t.guest();
    const chat = (token: string, stream = false) =>
      t.as(token, { method: 'POST', url: '/v1/chat/completions', payload: { messages: [{ role: 'user', content: 'hi' }], stream } });
    expect((await chat(alice.token)).statusCode).toBe(200);
    const streamed = await chat(alice.token, true);
    expect(streamed.statusCode).toBe(200);
    expect(streamed.headers['x-ratelimit-remaining-requests']).toBe('0');
    expectRateLimited(await chat(alice.token, true), 60);
    expect((await chat(bob.token)).statusCode).toBe(200);
  });
});

describe('per-user rate limits behind authentication', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    registerErrorHandlers(app);
    registerRateLimits(app, {
      limits: { guestLogin: { max: 100, windowMs: 60_000, text: '100/min' }, images: { max: 2, windowMs: 60_000, text: '2/min' }, chat: { max: 3, windowMs: 1000, text: '3/s' } },
      counter: new MemoryWindowCounter(),
    });
    app.decorateRequest('principal', null);
    await app.register(async (v1) => {
      // Stands in for the /v1 auth hook: "Bearer <user>".
      v1.addHook('onRequest', async (request) => {
        const user = /^Bearer (\w+)$/.exec(request.headers.authorization ?? '')?.[1];
        if (!user) throw unauthorized();
        request.principal = { userId: user, via: 'jwt' };
      });
      for (const path of ['/images/generations', '/images/edits']) v1.post(path, { config: { rateLimitKind: 'images' } }, async () => ({ ok: true }));
      v1.post('/chat/completions', { config: { rateLimitKind: 'chat' } }, async () => ({ ok: true }));
    }, { prefix: '/v1' });
    await app.ready();
  });
  afterAll(() => app.close());

  const post = (url: string, user?: string) =>
    app.inject({ method: 'POST', url, payload: {}, headers: user ? { authorization: `Bearer ${user}` } : {} });

  it('counts generations and edits together, per user, and 429s past the limit', async () => {
    expect((await post('/v1/images/generations', 'alice')).statusCode).toBe(200);
    expect((await post('/v1/images/edits', 'alice')).statusCode).toBe(200);
    const refused = await post('/v1/images/generations', 'alice');
    expectRateLimited(refused, 60);
    expect(refused.json().error.message).toContain('per user');
    // Another user and another kind have their own budgets.
    expect((await post('/v1/images/edits', 'bob')).statusCode).toBe(200);
    expect((await post('/v1/chat/completions', 'alice')).statusCode).toBe(200);
  });

  it('runs after authentication: a refused token is neither limited nor counted', async () => {
    for (let i = 0; i < 5; i++) expect((await post('/v1/chat/completions')).statusCode).toBe(401);
    for (let i = 0; i < 3; i++) expect((await post('/v1/chat/completions', 'carol')).statusCode).toBe(200);
    expectRateLimited(await post('/v1/chat/completions', 'carol'), 1);
  });
});

describe('memory window counter', () => {
  it('opens a window on the first hit and starts again when it closes', async () => {
    let now = 1_000_000;
    const counter = new MemoryWindowCounter(() => now);
    expect(await counter.hit('k', 60_000)).toEqual({ count: 1, resetInMs: 60_000 });
    now += 20_000;
    expect(await counter.hit('k', 60_000)).toEqual({ count: 2, resetInMs: 40_000 });
    expect(await counter.hit('other', 60_000)).toEqual({ count: 1, resetInMs: 60_000 });
    now += 40_000;
    expect(await counter.hit('k', 60_000)).toEqual({ count: 1, resetInMs: 60_000 });
  });
});

describe('guest login rate limit, counted in Redis', () => {
  const prefix = redisPrefix();
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const shared = { RATE_LIMIT_GUEST_LOGIN: '3/min', REDIS_URL, REDIS_KEY_PREFIX: prefix };
    a = await startApp('sqlite', shared);
    b = await startApp('sqlite', shared);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await deleteRedisKeys(prefix);
  });

  it('shares one count between instances, under the configured key prefix', async () => {
    expect(a.container.rateCounter.kind).toBe('redis');
    expect((await guestLogin(a)).statusCode).toBe(201);
    expect((await guestLogin(b)).statusCode).toBe(201);
    expect((await guestLogin(a)).statusCode).toBe(201);
    expectRateLimited(await guestLogin(b), 60);
    expectRateLimited(await guestLogin(a), 60);
    expect((await guestLogin(b, '198.51.100.2')).statusCode).toBe(201);

    const keys = await redisKeys(prefix);
    expect(keys.sort()).toEqual([`${prefix}rl:guestLogin:ip:198.51.100.2`, `${prefix}rl:guestLogin:ip:203.0.113.7`]);
  });

  it('reports Redis in readiness', async () => {
    const res = await a.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json().checks.redis).toEqual({ status: 'ok' });
  });
});

describe('Redis unreachable', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  let logs = '';
  beforeAll(async () => {
    const env = testEnv('sqlite', { LOG_LEVEL: 'warn', RATE_LIMIT_GUEST_LOGIN: '1/min', REDIS_URL: `redis://:hunter2@127.0.0.1:${await freePort()}` });
    const container = await createContainer(loadConfig(env));
    const stream = new Writable({ write: (chunk, _encoding, done) => ((logs += chunk), done()) });
    app = await buildApp(container, { logDestination: stream });
    await app.ready();
    close = async () => {
      await app.close();
      await container.close();
      fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
    };
  });
  afterAll(() => close());

  it('fails open with a warning log that holds no secret', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ method: 'POST', url: '/auth/guest-login', payload: {} });
      expect(res.statusCode).toBe(201);
    }
    expect(logs).toContain('rate limit store unavailable; allowing requests (fail open)');
    expect(logs).not.toContain('hunter2');
  });

  it('reports Redis down in readiness, as degraded rather than unready', async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'degraded', checks: { database: { status: 'ok' }, redis: { status: 'error' } } });
  });
});
