// Several providers configured by EASEL_PROVIDERS, seen through the API: routing by model id, alias and
// default (each upstream gets its own name), capability mapping as the upstream sees it (size map, n split
// by max_n), 400s for what the model cannot do, 404 for a model nobody serves, the /v1/models union and
// the providers' health view.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { startUpstream as startChatUpstream, type Upstream as ChatUpstream } from '../chat/upstream.ts';
import { countRows, NO_IMAGE_LIMIT, png, type Upstream as ImageUpstream } from '../images/support.ts';
import { bodyOf, generations, imageUpstream, providersFile } from './support.ts';

describe.each(DATABASES)('routing by model through the API on %s', (kind) => {
  let fastLlm: ChatUpstream;
  let bigLlm: ChatUpstream;
  let sd: ImageUpstream;
  let t: TestApp;
  let alice: Guest;
  let image: Buffer;

  beforeAll(async () => {
    image = await png(16, 16, '#aa3366');
    fastLlm = await startChatUpstream();
    bigLlm = await startChatUpstream();
    sd = await imageUpstream(image);
    const file = providersFile(`
defaults: { chat: fast, image: stable-diffusion }
providers:
  - name: fast-box
    kind: chat
    base_url: ${fastLlm.url}/v1
    api_key: env:FAST_KEY
    models:
      - { id: fast, upstream_model: llama-3.1-8b-instruct, aliases: [quick] }
  - name: big-box
    kind: chat
    base_url: ${bigLlm.url}
    models: [gpt-test]
  - name: sd-box
    kind: image
    base_url: ${sd.origin}/v1
    models:
      - id: sdxl
        upstream_model: sd-xl-base
        aliases: [stable-diffusion]
        edits: false
        max_n: 2
        sizes: [512x512, 1024x1024]
        size_map: { 1792x1024: 1024x1024 }
`);
    t = await startApp(kind, { ...NO_IMAGE_LIMIT, EASEL_PROVIDERS: file, FAST_KEY: 'sk-fast-box-key' });
    alice = await t.guest();
  });
  afterAll(async () => {
    await t.close();
    await fastLlm.close();
    await bigLlm.close();
    await sd.close();
  });
  beforeEach(() => {
    fastLlm.received.length = 0;
    bigLlm.received.length = 0;
    sd.requests.length = 0;
  });

  const chat = (payload: object) => t.as(alice.token, { method: 'POST', url: '/v1/chat/completions', payload: { messages: [{ role: 'user', content: 'hi' }], ...payload } });
  const generate = (payload: object) => t.as(alice.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'a fox', ...payload } });
  const completions = (upstream: ChatUpstream) => upstream.requests('/v1/chat/completions');

  it('routes chat by id, alias and default, each upstream getting its own model name and its own key', async () => {
    expect((await chat({ model: 'fast' })).statusCode).toBe(200);
    expect((await chat({ model: 'quick' })).statusCode).toBe(200);
    expect((await chat({})).statusCode).toBe(200);
    expect(completions(fastLlm).map((r) => r.body.model)).toEqual(['llama-3.1-8b-instruct', 'llama-3.1-8b-instruct', 'llama-3.1-8b-instruct']);
    expect(completions(fastLlm)[0]!.headers.authorization).toBe('Bearer sk-fast-box-key');
    expect(completions(bigLlm)).toHaveLength(0);
    expect((await chat({ model: 'gpt-test' })).statusCode).toBe(200);
    expect(completions(bigLlm).map((r) => r.body.model)).toEqual(['gpt-test']);
    expect(completions(bigLlm)[0]!.headers.authorization).toBeUndefined();
  });

  it('answers 404 model_not_found, naming the model, for one no provider serves', async () => {
    for (const res of [await chat({ model: 'gpt-5' }), await chat({ model: 'gpt-5', stream: true }), await generate({ model: 'dall-e-3' })]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toMatchObject({ type: 'not_found_error', param: 'model', code: 'model_not_found' });
      expect(res.json().error.message).toMatch(/'gpt-5'|'dall-e-3'/);
    }
    expect(fastLlm.received.length + bigLlm.received.length + generations(sd).length).toBe(0);
  });

  it('maps a size the model lacks as declared, and says so in the answer and the history', async () => {
    const conv = (await t.as(alice.token, { method: 'POST', url: '/v1/conversations', payload: {} })).json().id;
    const res = await generate({ model: 'sdxl', size: '1792x1024', conversation_id: conv });
    expect(res.statusCode).toBe(200);
    expect(generations(sd).map((r) => [bodyOf(r).model, bodyOf(r).size])).toEqual([['sd-xl-base', '1024x1024']]);
    expect(res.json().size).toBe('1024x1024');
    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv}/items?order=asc` })).json().data;
    expect(items[1]).toMatchObject({ type: 'image_generation_call', model: 'sdxl', size: '1024x1024' });
  });

  it('splits n above the model\'s max_n into several upstream calls', async () => {
    const res = await generate({ n: 5 });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toHaveLength(5);
    expect(generations(sd).map((r) => bodyOf(r).n).sort()).toEqual([1, 2, 2]);
    expect(new Set(generations(sd).map((r) => bodyOf(r).model))).toEqual(new Set(['sd-xl-base']));
  });

  it('refuses with a 400 naming the parameter what the model cannot do, before anything is sent or stored', async () => {
    const mediaBefore = await countRows(t, 'media');
    const size = await generate({ size: '1024x1792' });
    expect(size.statusCode).toBe(400);
    expect(size.json().error).toMatchObject({ type: 'invalid_request_error', param: 'size', code: 'unsupported_size' });
    expect(size.json().error.message).toBe("The model 'sdxl' does not support size 1024x1792; it supports 512x512, 1024x1024, 1792x1024.");
    const edit = await t.as(alice.token, { method: 'POST', url: '/v1/images/edits', payload: { prompt: 'x', model: 'sdxl', image: { b64_json: image.toString('base64') } } });
    expect(edit.statusCode).toBe(400);
    expect(edit.json().error).toMatchObject({ param: 'model', code: 'unsupported_operation' });
    expect(edit.json().error.message).toContain('does not support image edits');
    const streamed = await generate({ size: '1024x1792', stream: true });
    expect(streamed.statusCode).toBe(400);
    expect(sd.requests).toHaveLength(0);
    expect(await countRows(t, 'media')).toBe(mediaBefore);
  });

  it('lists the union of the providers\' models with their capabilities, chat first', async () => {
    const { data } = (await t.as(alice.token, { method: 'GET', url: '/v1/models' })).json();
    expect(data.map((m: { id: string; capabilities: string[] }) => [m.id, m.capabilities])).toEqual([
      ['fast', ['chat']],
      ['gpt-test', ['chat']],
      ['sdxl', ['image_generation']],
    ]);
    expect(data[0].owned_by).toBe('fast-box');
  });

  it('answers GET /v1/models/{id} for a model\'s id and for its aliases, and 404 for anything else', async () => {
    const get = (id: string) => t.as(alice.token, { method: 'GET', url: `/v1/models/${id}` });
    for (const [name, id] of [['fast', 'fast'], ['quick', 'fast'], ['sdxl', 'sdxl'], ['stable-diffusion', 'sdxl']]) {
      const res = await get(name!);
      expect(res.statusCode).toBe(200);
      expect(res.json().id).toBe(id);
    }
    const missing = await get('llama-3.1-8b-instruct');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ type: 'not_found_error', param: 'model' });
  });

  it('shows each provider\'s health, without its URL or key', async () => {
    await chat({ model: 'fast' });
    const res = await t.as(alice.token, { method: 'GET', url: '/v1/providers' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([
      { name: 'fast-box', kinds: ['chat'], models: ['fast'], any_model: false, weight: 1, state: 'closed', consecutive_failures: 0, retry_at: null, in_flight: 0, jobs: { running: 0, max_concurrency: 2 } },
      expect.objectContaining({ name: 'big-box', state: 'closed' }),
      expect.objectContaining({ name: 'sd-box', kinds: ['image'], models: ['sdxl'] }),
    ]);
    expect(res.body).not.toContain('127.0.0.1');
    expect(res.body).not.toContain('sk-fast-box-key');
    expect((await t.app.inject({ method: 'GET', url: '/v1/providers' })).statusCode).toBe(401);
  });
});
