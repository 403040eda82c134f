import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { events } from './client.ts';

describe.each(DATABASES)('the built-in demo chat model on %s', (kind) => {
  let t: TestApp;
  let alice: Guest;

  beforeAll(async () => {
    t = await startApp(kind);
    alice = await t.guest();
  });
  afterAll(() => t.close());

  const chat = (payload: unknown) => t.as(alice.token, { method: 'POST', url: '/v1/chat/completions', payload: payload as object });
  const newConversation = async () => (await t.as(alice.token, { method: 'POST', url: '/v1/conversations', payload: { title: 'Image Generation Test Conversation' } })).json();

  it('answers request 4 of the guide as written, with the first listed model', async () => {
    const modelId = (await t.as(alice.token, { method: 'GET', url: '/v1/models' })).json().data[0].id;
    expect(modelId).toBe('easel-demo-chat');
    const conv = await newConversation();
    const res = await t.as(alice.token, {
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      payload: `{
        "model": "${modelId}",
        "messages": [
          {"role": "user", "content": "Hello! I want to generate some images today."}
        ],
        "conversation": {"id": "${conv.id}"},
        "stream": false,
        "max_tokens": 100
      }`,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'easel-demo-chat',
      choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: 'stop' }],
      conversation: { id: conv.id },
    });
    expect(body.id).toMatch(/^chatcmpl-/);
    const content: string = body.choices[0].message.content;
    expect(content).toContain('demo');
    expect(content).toContain('You said: "Hello! I want to generate some images today."');
    expect(content).toContain('1 message so far');
    expect(body.usage.completion_tokens).toBe(content.split(/\s+/).length);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);

    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items?order=asc` })).json().data;
    expect(items.map((i: { role: string }) => i.role)).toEqual(['user', 'assistant']);
    expect(items[1].content[0].text).toBe(content);
  });

  it('talks about the conversation: its messages, the last question and the images made', async () => {
    const conv = await newConversation();
    await chat({ messages: [{ role: 'user', content: 'Hi there' }], conversation: conv.id });
    await t.container.conversations.append(conv.id, [
      { type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'A lighthouse at dawn' }] },
      { type: 'image_generation_call', status: 'completed', prompt: 'A lighthouse at dawn', model: 'easel-demo-image', size: '1024x1024', images: [{ id: 'jan_01jg8x0v9q4m6t2w7k3c5r8b1d', mime: 'image/png' }] },
    ]);
    const res = await chat({ messages: [{ role: 'user', content: 'What did we make?' }], conversation: conv.id });
    const content: string = res.json().choices[0].message.content;
    expect(content).toContain('You said: "What did we make?"');
    expect(content).toContain('5 messages so far, 3 from you');
    expect(content).toContain('1 image has been generated in it, the latest for "A lighthouse at dawn"');
  });

  it('honours max_tokens roughly, stopping for length', async () => {
    const body = (await chat({ messages: [{ role: 'user', content: 'Tell me everything' }], max_tokens: 5 })).json();
    expect(body.choices[0].message.content.split(' ')).toHaveLength(5);
    expect(body.choices[0].finish_reason).toBe('length');
    expect(body.usage.completion_tokens).toBe(5);
  });

  it('streams the same answer word by word in OpenAI chunks, with usage when asked', async () => {
    const messages = [{ role: 'user', content: 'Stream please' }];
    const whole = (await chat({ messages })).json();

    const res = await chat({ messages, stream: true, stream_options: { include_usage: true } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const data = events(res.body);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    for (const c of chunks) expect(c).toMatchObject({ object: 'chat.completion.chunk', model: 'easel-demo-chat', id: chunks[0].id });
    expect(chunks[0].choices[0].delta).toMatchObject({ role: 'assistant', content: '' });
    const deltas = chunks.flatMap((c) => c.choices.map((ch: { delta: { content?: string } }) => ch.delta.content ?? ''));
    expect(deltas.filter((d) => d !== '').every((d) => d.trim().split(/\s+/).length === 1)).toBe(true);
    expect(deltas.join('')).toBe(whole.choices[0].message.content);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: whole.usage });

    const plain = events((await chat({ messages, stream: true })).body).slice(0, -1).map((d) => JSON.parse(d));
    expect(plain.some((c) => 'usage' in c)).toBe(false);
  });

  it('saves a streamed answer to the conversation', async () => {
    const conv = await newConversation();
    const res = await chat({ messages: [{ role: 'user', content: 'Hello' }], conversation: conv.id, stream: true });
    const text = events(res.body).slice(0, -1).map((d) => JSON.parse(d).choices[0]?.delta.content ?? '').join('');
    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items?order=asc` })).json().data;
    expect(items[1]).toMatchObject({ role: 'assistant', status: 'completed', content: [{ text }] });
  });

  it('answers 404 for a model it does not have', async () => {
    const res = await chat({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ type: 'not_found_error', param: 'model' });
    expect((await chat({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true })).statusCode).toBe(404);
  });
});
