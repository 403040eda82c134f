// The official openai SDK, unchanged, against the real server process.
import fs from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, dropSchema, testEnv } from '../helpers/app.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { json, startUpstream, type Upstream } from './upstream.ts';

async function start(env: Record<string, string>): Promise<{ server: ServerProcess; client: OpenAI; token: string; close(): Promise<void> }> {
  const server = await startServer(env);
  const login = await fetch(`${server.url}/auth/guest-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const token = (await login.json()).access_token as string;
  return {
    server,
    token,
    client: new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 }),
    async close() {
      await server.stop();
      if (env.DATABASE_SCHEMA) await dropSchema(env.DATABASE_SCHEMA);
      fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
    },
  };
}

describe.each(DATABASES)('the openai SDK against the server on %s', (kind) => {
  let demo: Awaited<ReturnType<typeof start>>;
  let proxied: Awaited<ReturnType<typeof start>>;
  let upstream: Upstream;

  beforeAll(async () => {
    upstream = await startUpstream();
    [demo, proxied] = await Promise.all([start(testEnv(kind)), start(testEnv(kind, { LLM_PROVIDER_URL: upstream.url, LLM_PROVIDER_API_KEY: 'sk-test' }))]);
  });
  afterAll(async () => {
    await Promise.all([demo?.close(), proxied?.close()]);
    await upstream.close();
  });

  it('lists models and creates a completion with the demo model, in a conversation', async () => {
    const models = await demo.client.models.list();
    const model = models.data[0]!.id;
    expect(model).toBe('easel-demo-chat');

    const conv = await (await fetch(`${demo.server.url}/v1/conversations`, { method: 'POST', headers: { authorization: `Bearer ${demo.token}`, 'content-type': 'application/json' }, body: '{}' })).json();
    const completion = await demo.client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hello from the SDK' }],
      max_tokens: 100,
      // Easel's own field, sent as an extra body parameter.
      ...({ conversation: { id: conv.id } } as object),
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message.content).toContain('Hello from the SDK');
    expect(completion.usage!.total_tokens).toBeGreaterThan(0);
    expect((completion as unknown as { conversation: { id: string } }).conversation.id).toBe(conv.id);
  });

  it('streams a completion with the demo model, usage last', async () => {
    const stream = await demo.client.chat.completions.create({
      model: 'easel-demo-chat',
      messages: [{ role: 'user', content: 'Stream it' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      deltas.push(chunk.choices[0]?.delta.content ?? '');
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.filter(Boolean).length).toBeGreaterThan(5);
    expect(deltas.join('')).toContain('Stream it');
    expect(usage!.completion_tokens).toBe(deltas.join('').split(/\s+/).length);
  });

  it('creates and streams completions through a provider', async () => {
    const completion = await proxied.client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.5 });
    expect(completion.choices[0]!.message.content).toBe('Upstream reply');
    const received = upstream.requests('/v1/chat/completions').at(-1)!;
    expect(received.body).toEqual({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.5 });
    expect(received.headers.authorization).toBe('Bearer sk-test');

    let text = '';
    for await (const chunk of await proxied.client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hi' }], stream: true })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('Upstream reply');
  });

  it('surfaces a provider\'s 4xx as the SDK\'s own error class', async () => {
    upstream.handle = (_request, res) => json(res, 400, { error: { message: 'Unsupported parameter: foo', type: 'invalid_request_error', param: 'foo', code: 'unsupported_parameter' } });
    try {
      await expect(proxied.client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hi' }] })).rejects.toMatchObject({
        constructor: OpenAI.BadRequestError,
        status: 400,
        message: expect.stringContaining('Unsupported parameter: foo'),
        param: 'foo',
      });
    } finally {
      upstream.reset();
    }
  });
});
