import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/server-process.ts';
import { completion, json, startUpstream, type Upstream } from './upstream.ts';

const KEY = 'sk-upstream-secret-0123456789';

describe.each(DATABASES)('chat completions proxied to the provider on %s', (kind) => {
  let upstream: Upstream;
  let t: TestApp;
  let alice: Guest;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startApp(kind, { LLM_PROVIDER_URL: `${upstream.url}/v1`, LLM_PROVIDER_API_KEY: KEY });
    alice = await t.guest();
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const chat = (payload: unknown, app = t) => app.as(alice.token, { method: 'POST', url: '/v1/chat/completions', payload: payload as object });
  const lastCompletion = () => upstream.requests('/v1/chat/completions').at(-1)!;

  it('sends Easel\'s provider key upstream, never the caller\'s token', async () => {
    const res = await chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.statusCode).toBe(200);
    const received = lastCompletion();
    expect(received.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.stringify(received.headers)).not.toContain(alice.token);
  });

  it('passes every OpenAI parameter through untouched and returns the upstream\'s answer as is', async () => {
    const payload = {
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }], name: 'ada' },
      ],
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: 'auto',
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 50,
      seed: 7,
      stop: ['\n\n'],
      logit_bias: { '50256': -100 },
      metadata: { run: 'a' },
      user: 'end-user-1',
      n: 1,
      a_future_parameter: { nested: [1, 2, 3] },
    };
    const res = await chat(payload);
    expect(res.statusCode).toBe(200);
    expect(lastCompletion().body).toEqual(payload);
    expect(res.json()).toEqual(completion('Upstream reply'));
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('strips Easel\'s own fields (conversation, store) before forwarding', async () => {
    const conv = (await t.as(alice.token, { method: 'POST', url: '/v1/conversations', payload: {} })).json();
    await chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hi' }], store: false });
    expect(lastCompletion().body).toEqual({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hi' }] });
    await chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hi' }], conversation: conv.id, store: true, temperature: 1 });
    expect(lastCompletion().body).toEqual({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hi' }], temperature: 1 });
  });

  it('gives back an upstream 4xx with the same status and the upstream\'s message', async () => {
    upstream.handle = (request, res) => {
      const model = request.body.model;
      if (model === 'bad-param') return json(res, 400, { error: { message: 'Invalid temperature', type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' } });
      if (model === 'missing') return json(res, 404, { error: { message: 'The model `missing` does not exist', type: 'invalid_request_error', param: null, code: 'model_not_found' } });
      if (model === 'busy') {
        res.setHeader('retry-after', '7');
        return json(res, 429, { error: { message: 'Slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } });
      }
      return json(res, 422, { detail: 'messages: field required' });
    };
    const bad = await chat({ model: 'bad-param', messages: [{ role: 'user', content: 'x' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: { message: 'Invalid temperature', type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' } });

    const missing = await chat({ model: 'missing', messages: [{ role: 'user', content: 'x' }] });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ message: 'The model `missing` does not exist', type: 'not_found_error', code: 'model_not_found' });

    const busy = await chat({ model: 'busy', messages: [{ role: 'user', content: 'x' }] });
    expect(busy.statusCode).toBe(429);
    expect(busy.headers['retry-after']).toBe('7');
    expect(busy.json().error).toMatchObject({ message: 'Slow down', type: 'rate_limit_error' });

    const other = await chat({ model: 'vllm', messages: [{ role: 'user', content: 'x' }] });
    expect(other.statusCode).toBe(422);
    expect(other.json().error).toMatchObject({ message: 'messages: field required', type: 'invalid_request_error' });
  });

  it('turns upstream 5xx, refused credentials and garbage into 500 provider_error without leaking the key', async () => {
    const cases: Array<[string, (res: import('node:http').ServerResponse) => void]> = [
      ['5xx', (res) => json(res, 503, { error: { message: `overloaded; key ${KEY}` } })],
      ['401', (res) => json(res, 401, { error: { message: `Incorrect API key provided: ${KEY}` } })],
      ['not json', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops</html>')],
      ['not an object', (res) => json(res, 200, '[1,2]')],
      ['cut off', (res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' }).write('{"id":');
        res.socket!.destroy();
      }],
    ];
    for (const [name, respond] of cases) {
      upstream.handle = (_request, res) => respond(res);
      const res = await chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
      expect(res.statusCode, name).toBe(500);
      expect(res.json().error, name).toMatchObject({ type: 'provider_error', code: 'provider_error' });
      expect(res.json().error.message, name).toMatch(/chat provider/);
      expect(res.body, name).not.toContain(KEY);
    }
  });

  it('redacts the key from an upstream 4xx message', async () => {
    upstream.handle = (_request, res) => json(res, 400, { error: { message: `bad request for ${KEY}` } });
    const res = await chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toBe('bad request for [redacted]');
  });

  it('validates only what Easel needs, naming the field, and sends nothing upstream', async () => {
    const before = upstream.received.length;
    const cases: Array<[unknown, string | null]> = [
      [{ model: 'gpt-test' }, 'messages'],
      [{ messages: [] }, 'messages'],
      [{ messages: 'hi' }, 'messages'],
      [{ messages: [{ content: 'no role' }] }, 'messages[0].role'],
      [{ messages: [{ role: 'user', content: 'x' }], model: 5 }, 'model'],
      [{ messages: [{ role: 'user', content: 'x' }], stream: 'yes' }, 'stream'],
      [{ messages: [{ role: 'user', content: 'x' }], store: 'no' }, 'store'],
      [{ messages: [{ role: 'user', content: 'x' }], conversation: 5 }, 'conversation'],
      [{ messages: [{ role: 'user', content: 'x' }], conversation: { id: 'conv_x', extra: 1 } }, 'conversation'],
    ];
    for (const [payload, param] of cases) {
      const res = await chat(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error, JSON.stringify(payload)).toMatchObject({ type: 'invalid_request_error' });
      expect(res.json().error.param, JSON.stringify(payload)).toMatch(new RegExp(`^${param!.replace(/[[\]]/g, '\\$&')}`));
    }
    const malformed = await t.as(alice.token, { method: 'POST', url: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, payload: '{"messages": [' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('invalid_json');
    expect(upstream.received.length).toBe(before);
  });

  it('needs a token', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { messages: [{ role: 'user', content: 'x' }] } });
    expect(res.statusCode).toBe(401);
  });

  it('reaches the provider whether its URL ends in /v1 or not, never doubling it', async () => {
    for (const base of [upstream.url, `${upstream.url}/`, `${upstream.url}/v1`, `${upstream.url}/v1/`]) {
      const other = await startApp(kind, { LLM_PROVIDER_URL: base });
      try {
        const guest = await other.guest();
        const before = upstream.received.length;
        const res = await other.as(guest.token, { method: 'POST', url: '/v1/chat/completions', payload: { messages: [{ role: 'user', content: 'x' }] } });
        expect(res.statusCode, base).toBe(200);
        const models = await other.as(guest.token, { method: 'GET', url: '/v1/models' });
        expect(models.json().data[0].id, base).toBe('gpt-test');
        expect(upstream.received.slice(before).map((r) => r.url), base).toEqual(['/v1/chat/completions', '/v1/models']);
        // Without a key, no authorization header at all.
        expect(upstream.received.at(-1)!.headers.authorization, base).toBeUndefined();
      } finally {
        await other.close();
      }
    }
  });

  it('reports a provider that refuses connections or never answers as 500 provider_error', async () => {
    const refused = await startApp(kind, { LLM_PROVIDER_URL: `http://127.0.0.1:${await freePort()}/v1`, LLM_PROVIDER_API_KEY: KEY });
    try {
      const guest = await refused.guest();
      const res = await refused.as(guest.token, { method: 'POST', url: '/v1/chat/completions', payload: { messages: [{ role: 'user', content: 'x' }] } });
      expect(res.statusCode).toBe(500);
      expect(res.json().error).toMatchObject({ type: 'provider_error', message: 'The chat provider could not be reached.' });
    } finally {
      await refused.close();
    }

    upstream.handle = () => {}; // never answers
    const slow = await startApp(kind, { LLM_PROVIDER_URL: upstream.url, LLM_PROVIDER_API_KEY: KEY, LLM_PROVIDER_TIMEOUT_SECONDS: '1' });
    try {
      const guest = await slow.guest();
      const res = await slow.as(guest.token, { method: 'POST', url: '/v1/chat/completions', payload: { messages: [{ role: 'user', content: 'x' }] } });
      expect(res.statusCode).toBe(500);
      expect(res.json().error).toMatchObject({ type: 'provider_error', message: 'The chat provider did not respond in time.' });
      expect(res.body).not.toContain(KEY);
    } finally {
      await slow.close();
    }
  });
});
