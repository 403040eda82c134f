import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { completion, json, startUpstream, type Upstream } from './upstream.ts';

describe.each(DATABASES)('chat completions with conversation memory on %s', (kind) => {
  let upstream: Upstream;
  let t: TestApp;
  let alice: Guest;
  let bob: Guest;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startApp(kind, { LLM_PROVIDER_URL: upstream.url, LLM_PROVIDER_API_KEY: 'sk-test' });
    alice = await t.guest();
    bob = await t.guest();
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const chat = (guest: Guest, payload: unknown) => t.as(guest.token, { method: 'POST', url: '/v1/chat/completions', payload: payload as object });
  const newConversation = async (items: unknown[] = []) => (await t.as(alice.token, { method: 'POST', url: '/v1/conversations', payload: { items } })).json();
  const items = async (id: string) => (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${id}/items?order=asc&limit=100` })).json().data;
  const sentMessages = () => upstream.requests('/v1/chat/completions').at(-1)!.body.messages;

  it('sends the stored history first, in order (images as text), then the request\'s messages, and saves the turn', async () => {
    const conv = await newConversation([
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Hello Ada!' },
      { role: 'user', content: 'Draw a red fox.' },
    ]);
    await t.container.conversations.append(conv.id, [
      { type: 'image_generation_call', status: 'completed', prompt: 'a red fox', model: 'easel-demo-image', size: '512x512', images: [{ id: 'jan_01jg8x0v9q4m6t2w7k3c5r8b1d', mime: 'image/png' }] },
    ]);

    const res = await chat(alice, {
      model: 'gpt-test',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is my name?' }],
      conversation: conv.id,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ...completion('Upstream reply'), conversation: { id: conv.id } });

    expect(sentMessages()).toEqual([
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Hello Ada!' },
      { role: 'user', content: 'Draw a red fox.' },
      { role: 'assistant', content: '[Image generated for prompt: "a red fox"; model easel-demo-image; size 512x512; media jan_01jg8x0v9q4m6t2w7k3c5r8b1d]' },
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is my name?' },
    ]);

    const stored = await items(conv.id);
    expect(stored).toHaveLength(6);
    // The new user message and the reply; the request's system prompt is the client's and is not saved.
    expect(stored[4]).toMatchObject({ type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'What is my name?' }] });
    expect(stored[5]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Upstream reply', annotations: [] }] });

    // The next turn replays the saved turn too.
    await chat(alice, { messages: [{ role: 'user', content: 'Thanks' }], conversation: { id: conv.id } });
    expect(sentMessages().slice(-3)).toEqual([
      { role: 'user', content: 'What is my name?' },
      { role: 'assistant', content: 'Upstream reply' },
      { role: 'user', content: 'Thanks' },
    ]);
  });

  it('accepts the conversation as {id}, as the guide sends it', async () => {
    const conv = await newConversation();
    const res = await chat(alice, { model: 'gpt-test', messages: [{ role: 'user', content: 'Hello! I want to generate some images today.' }], conversation: { id: conv.id }, stream: false, max_tokens: 100 });
    expect(res.statusCode).toBe(200);
    expect(res.json().conversation).toEqual({ id: conv.id });
    expect((await items(conv.id)).map((i: { role: string }) => i.role)).toEqual(['user', 'assistant']);
  });

  it('with store: false replays the history but saves nothing', async () => {
    const conv = await newConversation([{ role: 'user', content: 'Earlier' }]);
    const res = await chat(alice, { messages: [{ role: 'user', content: 'Now' }], conversation: conv.id, store: false });
    expect(res.statusCode).toBe(200);
    expect(res.json().conversation).toEqual({ id: conv.id });
    expect(sentMessages()).toEqual([{ role: 'user', content: 'Earlier' }, { role: 'user', content: 'Now' }]);
    expect(await items(conv.id)).toHaveLength(1);
  });

  it('answers 404 for another user\'s conversation or an unknown one, without calling the provider', async () => {
    const conv = await newConversation([{ role: 'user', content: 'secret' }]);
    const before = upstream.received.length;
    for (const conversation of [conv.id, { id: conv.id }]) {
      const res = await chat(bob, { messages: [{ role: 'user', content: 'x' }], conversation });
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toMatchObject({ type: 'not_found_error', param: 'conversation' });
      expect(res.body).not.toContain('secret');
    }
    const unknown = await chat(alice, { messages: [{ role: 'user', content: 'x' }], conversation: 'conv_01jg8x0v9q4m6t2w7k3c5r8b1d' });
    expect(unknown.statusCode).toBe(404);
    expect(upstream.received.length).toBe(before);
    expect(await items(conv.id)).toHaveLength(1);
  });

  it('saves nothing when the provider fails', async () => {
    const conv = await newConversation([{ role: 'user', content: 'Earlier' }]);
    upstream.handle = (_request, res) => json(res, 500, { error: { message: 'boom' } });
    expect((await chat(alice, { messages: [{ role: 'user', content: 'x' }], conversation: conv.id })).statusCode).toBe(500);
    upstream.handle = (_request, res) => json(res, 400, { error: { message: 'bad' } });
    expect((await chat(alice, { messages: [{ role: 'user', content: 'x' }], conversation: conv.id })).statusCode).toBe(400);
    expect(await items(conv.id)).toHaveLength(1);
  });

  it('saves text and linked images of new messages, never inline base64, and replays images as text', async () => {
    const conv = await newConversation();
    const res = await chat(alice, {
      messages: [{
        role: 'user',
        content: [
          { type: 'text', text: 'Look at these' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
        ],
      }],
      conversation: conv.id,
    });
    expect(res.statusCode).toBe(200);
    // The request itself goes upstream as the client sent it.
    expect(sentMessages()[0].content[1].image_url.url).toMatch(/^data:image\/png;base64,/);
    const [user] = await items(conv.id);
    expect(user.content).toEqual([
      { type: 'input_text', text: 'Look at these' },
      { type: 'input_text', text: '[Image attached: inline image]' },
      { type: 'input_image', file_id: null, image_url: 'https://example.com/cat.png' },
    ]);
    expect(JSON.stringify(user)).not.toContain('base64');

    await chat(alice, { messages: [{ role: 'user', content: 'And now?' }], conversation: conv.id });
    expect(sentMessages()[0]).toEqual({ role: 'user', content: 'Look at these\n[Image attached: inline image]\n[Image attached: https://example.com/cat.png]' });
  });
});
