// Tokens the upstream reports are counted for the caller and show in GET /v1/usage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type TestApp } from '../helpers/app.ts';
import { DONE, chunk, sse, startUpstream, type Upstream } from './upstream.ts';

async function usageOf(t: TestApp, token: string) {
  // Counting happens off the response path: wait until it has landed.
  for (let i = 0; i < 100; i++) {
    const report = (await t.as(token, { method: 'GET', url: '/v1/usage' })).json();
    if (report.totals.prompt_tokens > 0) return report.totals;
    await new Promise((r) => setTimeout(r, 20));
  }
  return (await t.as(token, { method: 'GET', url: '/v1/usage' })).json().totals;
}

describe.each(DATABASES)('chat token usage on %s', (kind) => {
  let upstream: Upstream;
  let t: TestApp;
  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startApp(kind, { LLM_PROVIDER_URL: upstream.url });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('counts the usage of a completion', async () => {
    const guest = await t.guest();
    const res = await t.as(guest.token, { method: 'POST', url: '/v1/chat/completions', payload: { model: 'gpt-test', messages: [{ role: 'user', content: 'Hi' }] } });
    expect(res.statusCode).toBe(200);
    expect(await usageOf(t, guest.token)).toMatchObject({ prompt_tokens: 3, completion_tokens: 2 });
  });

  it('counts the usage chunk of a stream', async () => {
    upstream.handle = (_request, res) => {
      const usage = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } };
      sse(res).end(chunk('Hello', 'stop') + `data: ${JSON.stringify(usage)}\n\n` + DONE);
    };
    const guest = await t.guest();
    const res = await t.as(guest.token, {
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('"prompt_tokens":11');
    expect(await usageOf(t, guest.token)).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
    upstream.reset();
  });
});
