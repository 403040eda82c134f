import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/server-process.ts';
import { startUpstream, type Upstream } from './upstream.ts';

describe.each(DATABASES)('/v1/models on %s', (kind) => {
  let upstream: Upstream;
  let t: TestApp;
  let alice: Guest;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startApp(kind, { LLM_PROVIDER_URL: `${upstream.url}/v1`, LLM_PROVIDER_API_KEY: 'sk-test' });
    alice = await t.guest();
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const get = (url: string, app = t, guest = alice) => app.as(guest.token, { method: 'GET', url });

  it('lists the provider\'s chat models first, then the image models, each with its capabilities', async () => {
    const res = await get('/v1/models');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.object).toBe('list');
    expect(body.data.slice(0, 2)).toEqual([
      { id: 'gpt-test', object: 'model', created: 1_700_000_000, owned_by: 'test-org', capabilities: ['chat'] },
      { id: 'org/model-with-slash', object: 'model', created: 1_700_000_001, owned_by: 'test-org', capabilities: ['chat'] },
    ]);
    const rest = body.data.slice(2);
    expect(rest.length).toBeGreaterThan(0);
    for (const model of rest) expect(model.capabilities).toContain('image_generation');
    expect(body.data.map((m: { id: string }) => m.id)).not.toContain('easel-demo-chat');
  });

  it('caches the provider\'s list', async () => {
    await get('/v1/models');
    const before = upstream.requests('/v1/models').length;
    await get('/v1/models');
    await get('/v1/models/gpt-test');
    expect(upstream.requests('/v1/models').length).toBe(before);
    expect(upstream.requests('/v1/models')[0]!.headers.authorization).toBe('Bearer sk-test');
  });

  it('gets one model, including ids with a slash, and 404 for an unknown one', async () => {
    expect((await get('/v1/models/gpt-test')).json()).toMatchObject({ id: 'gpt-test', capabilities: ['chat'] });
    expect((await get('/v1/models/org%2Fmodel-with-slash')).json()).toMatchObject({ id: 'org/model-with-slash' });
    const missing = await get('/v1/models/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ type: 'not_found_error', param: 'model' });
  });

  it('needs a token', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/v1/models' })).statusCode).toBe(401);
  });

  it('still lists the other models while the provider is down', async () => {
    const down = await startApp(kind, { LLM_PROVIDER_URL: `http://127.0.0.1:${await freePort()}` });
    try {
      const guest = await down.guest();
      const res = await get('/v1/models', down, guest);
      expect(res.statusCode).toBe(200);
      const data = res.json().data;
      expect(data.length).toBeGreaterThan(0);
      for (const model of data) expect(model.capabilities).not.toContain('chat');
      expect((await get(`/v1/models/${data[0].id}`, down, guest)).statusCode).toBe(200);
    } finally {
      await down.close();
    }
  });

  it('lists the demo chat model first when no provider is configured', async () => {
    const demo = await startApp(kind);
    try {
      const guest = await demo.guest();
      const data = (await get('/v1/models', demo, guest)).json().data;
      expect(data[0]).toEqual({ id: 'easel-demo-chat', object: 'model', created: expect.any(Number), owned_by: 'easel', capabilities: ['chat'] });
      expect(data.slice(1).every((m: { capabilities: string[] }) => !m.capabilities.includes('chat'))).toBe(true);
      expect(data.length).toBeGreaterThan(1);
    } finally {
      await demo.close();
    }
  });
});
