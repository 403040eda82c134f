// The real server process driven by the official openai SDK, as a user's client would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { dropSchema, testEnv, type DatabaseKind } from '../helpers/app.ts';

describe.each(['sqlite', 'postgres'] as DatabaseKind[])('conversations through the openai SDK on %s', (kind) => {
  let server: ServerProcess;
  let client: OpenAI;
  const env = testEnv(kind, { LOG_LEVEL: 'warn' });

  beforeAll(async () => {
    server = await startServer(env);
    const login = await fetch(`${server.url}/auth/guest-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { access_token } = await login.json();
    client = new OpenAI({ apiKey: access_token, baseURL: `${server.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.stop();
    if (env.DATABASE_SCHEMA) await dropSchema(env.DATABASE_SCHEMA);
  });

  it('creates, retrieves, updates and deletes', async () => {
    const conv = await client.conversations.create({ metadata: { topic: 'sdk' }, items: [{ type: 'message', role: 'user', content: 'hello' }] });
    expect(conv.id).toMatch(/^conv_/);
    expect(conv.object).toBe('conversation');
    expect((await client.conversations.retrieve(conv.id)).metadata).toEqual({ topic: 'sdk' });
    const updated = await client.conversations.update(conv.id, { metadata: { topic: 'changed' } });
    expect(updated.metadata).toEqual({ topic: 'changed' });
    const deleted = await client.conversations.delete(conv.id);
    expect(deleted).toMatchObject({ id: conv.id, deleted: true });
    await expect(client.conversations.retrieve(conv.id)).rejects.toMatchObject({ status: 404 });
  });

  it('creates, lists, retrieves and deletes items with auto-pagination', async () => {
    const conv = await client.conversations.create({});
    const texts = Array.from({ length: 45 }, (_, i) => `item ${i}`);
    for (let i = 0; i < texts.length; i += 20) {
      const created = await client.conversations.items.create(conv.id, {
        items: texts.slice(i, i + 20).map((text) => ({ type: 'message' as const, role: 'user' as const, content: text })),
      });
      expect(created.data).toHaveLength(Math.min(20, texts.length - i));
    }
    const textOf = (item: OpenAI.Conversations.ConversationItem) =>
      item.type === 'message' && item.content[0]?.type === 'input_text' ? item.content[0].text : undefined;

    const asc: string[] = [];
    for await (const item of client.conversations.items.list(conv.id, { order: 'asc', limit: 10 })) asc.push(textOf(item)!);
    expect(asc).toEqual(texts);
    const desc: string[] = [];
    for await (const item of client.conversations.items.list(conv.id, { order: 'desc', limit: 7 })) desc.push(textOf(item)!);
    expect(desc).toEqual([...texts].reverse());

    const first = (await client.conversations.items.list(conv.id, { order: 'asc', limit: 1 })).data[0]!;
    const got = await client.conversations.items.retrieve(first.id!, { conversation_id: conv.id });
    expect(textOf(got)).toBe('item 0');
    await client.conversations.items.delete(first.id!, { conversation_id: conv.id });
    await expect(client.conversations.items.retrieve(first.id!, { conversation_id: conv.id })).rejects.toMatchObject({ status: 404 });
  });

  it('surfaces errors as OpenAI API errors', async () => {
    const error = await client.conversations.retrieve('conv_doesnotexist').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    const bad = new OpenAI({ apiKey: 'not-a-token', baseURL: `${server.url}/v1`, maxRetries: 0 });
    await expect(bad.conversations.create({})).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
