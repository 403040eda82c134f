// Log lines are JSON with request id, user, route, status and latency, and never carry a credential.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { buildApp } from '../../src/app.ts';
import { redactSecrets } from '../../src/observability/logger.ts';
import { testEnv } from '../helpers/app.ts';

describe('logs', () => {
  let container: Container;
  let app: FastifyInstance;
  let env: Record<string, string>;
  let output = '';
  const lines = () => output.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);

  beforeAll(async () => {
    env = testEnv('sqlite', { LOG_LEVEL: 'info', LLM_PROVIDER_URL: 'http://127.0.0.1:9/v1', LLM_PROVIDER_API_KEY: 'provider-secret-0123456789' });
    container = await createContainer(loadConfig(env));
    app = await buildApp(container, { logDestination: { write: (line: string) => void (output += line) } });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await container.close();
    fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  it('logs a guest login, an API key use and a signed URL without any token, key or signature', async () => {
    const login = (await app.inject({ method: 'POST', url: '/auth/guest-login', payload: {} })).json();
    const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh-token', payload: { refresh_token: login.refresh_token } });
    expect(refreshed.statusCode).toBe(200);
    const created = await app.inject({ method: 'POST', url: '/auth/api-keys', headers: { authorization: `Bearer ${login.access_token}` }, payload: { name: 'logs' } });
    const { key } = created.json();
    const viaKey = await app.inject({ method: 'GET', url: '/v1/conversations', headers: { authorization: `Bearer ${key}`, 'x-request-id': 'req-logged-1' } });
    expect(viaKey.statusCode).toBe(200);
    const signature = 'c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw';
    await app.inject({ method: 'GET', url: `/images/jan_01jg8x0v9q4m6t2w7k3c5r8b1d.png?exp=9999999999&sig=${signature}` });
    await app.inject({ method: 'GET', url: `/v1/media/jan_01jg8x0v9q4m6t2w7k3c5r8b1d?sig=${signature}`, headers: { authorization: `Bearer ${key}` } });
    // Something logging a credential by mistake is scrubbed all the same.
    app.log.warn({ headers: { authorization: `Bearer ${login.access_token}` } }, `oops ${key} ${login.refresh_token} provider-secret-0123456789`);

    const secrets = [login.access_token, login.refresh_token, refreshed.json().access_token, refreshed.json().refresh_token, key, signature, 'provider-secret-0123456789'];
    expect(output.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(output).not.toContain(secret);
    // Not even a recognisable part of a JWT.
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);

    const keyed = lines().find((l) => l.reqId === 'req-logged-1');
    expect(keyed).toMatchObject({
      msg: 'request completed',
      method: 'GET',
      route: '/v1/conversations',
      statusCode: 200,
      userId: login.user_id,
      responseTime: expect.any(Number),
      level: 30,
    });
    const signed = lines().find((l) => typeof l.url === 'string' && l.url.startsWith('/images/'));
    expect(signed?.url).toBe('/images/jan_01jg8x0v9q4m6t2w7k3c5r8b1d.png?exp=9999999999&sig=[redacted]');
    // One line per request: no separate "incoming request" line.
    expect(lines().filter((l) => l.msg === 'incoming request')).toEqual([]);
  });

  it('keeps health probes and metric scrapes out of the info log', async () => {
    const before = output.length;
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({ method: 'GET', url: '/metrics' });
    expect(output.slice(before)).toBe('');
  });
});

describe('redactSecrets', () => {
  it.each([
    ['Authorization: Bearer abc.def.ghi', 'Authorization: Bearer [redacted]'],
    ['key sk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA used', 'key sk_[redacted] used'],
    ['upstream sk-proj-abcdefghijklmnop failed', 'upstream sk-[redacted] failed'],
    ['token rt_abcdefghijklmnopqrstuvwxyz', 'token rt_[redacted]'],
    ['jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln ok', 'jwt [redacted] ok'],
    ['"url":"/images/jan_1.png?exp=1&sig=abc-_123"', '"url":"/images/jan_1.png?exp=1&sig=[redacted]"'],
    ['https://bucket.s3/x?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA%2F', 'https://bucket.s3/x?X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]'],
    ['conv_01jg8x0v9q4m6t2w7k3c5r8b1d and req_01jg8x0v9q4m6t2w7k3c5r8b1d stay', 'conv_01jg8x0v9q4m6t2w7k3c5r8b1d and req_01jg8x0v9q4m6t2w7k3c5r8b1d stay'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it('removes configured secret values', () => {
    expect(redactSecrets('calling with hunter2-is-a-long-secret', ['hunter2-is-a-long-secret'])).toBe('calling with [redacted]');
  });
});
