// Routing across several loopback upstreams, at the level of the routers ChatService and ImagesService use:
// weighted spread, least in flight, the circuit opening and closing (on an injected clock), and fallback
// only where the upstream cannot have started the work.
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseProvidersFile } from '../../src/providers/config-file.ts';
import { buildRouting, type Routing } from '../../src/providers/routing/build.ts';
import { ChatRequest } from '../../src/providers/chat/provider.ts';
import { ApiError } from '../../src/lib/errors.ts';
import { completion, json, signal, startUpstream as startChatUpstream, type Upstream as ChatUpstream } from '../chat/upstream.ts';
import { png, sendJson, type Upstream as ImageUpstream } from '../images/support.ts';
import { freePort } from '../helpers/server-process.ts';
import { bodyOf, generations, imageUpstream, NO_WAIT_RETRY } from './support.ts';

const completions = (upstream: ChatUpstream) => upstream.requests('/v1/chat/completions');
const ask = (routing: Routing, model?: string) => routing.chat.complete(new ChatRequest({ messages: [{ role: 'user', content: 'hi' }], ...(model ? { model } : {}) }));

/** The error a call ends with, or 'ok'. */
async function settle(call: Promise<unknown>): Promise<ApiError | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
}

describe('routing across chat providers', () => {
  let a: ChatUpstream;
  let b: ChatUpstream;
  let clock = 1_000_000;

  beforeAll(async () => {
    a = await startChatUpstream();
    b = await startChatUpstream();
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });
  afterEach(() => {
    a.reset();
    b.reset();
    a.received.length = 0;
    b.received.length = 0;
  });

  /** Two providers of the model `m`, each knowing it by its own name. */
  function twoProviders(options: { weightA?: number; weightB?: number; urlA?: string; threshold?: number; timeout?: number } = {}): Routing {
    const config = parseProvidersFile(
      `
providers:
  - { name: a, kind: chat, base_url: "${options.urlA ?? `${a.url}/v1`}", weight: ${options.weightA ?? 1}, timeout_seconds: ${options.timeout ?? 30}, models: [{ id: m, upstream_model: m-on-a, aliases: [em] }] }
  - { name: b, kind: chat, base_url: "${b.url}/v1", weight: ${options.weightB ?? 1}, models: [{ id: m, upstream_model: m-on-b }] }
circuit: { failure_threshold: ${options.threshold ?? 1000}, cooldown_seconds: 30 }
`,
      'yaml',
      {},
    );
    return buildRouting(config, { maxImageBytes: 1024 * 1024, modelsCacheTtlSeconds: 60, now: () => clock, retry: NO_WAIT_RETRY });
  }

  it('sends each upstream its own name for the model, asked by id or alias', async () => {
    const routing = twoProviders({ weightA: 1000 });
    await ask(routing, 'em');
    expect(completions(a).map((r) => r.body.model)).toEqual(['m-on-a']);
    const onlyB = twoProviders({ weightA: 1, weightB: 1000 });
    await ask(onlyB, 'm');
    expect(completions(b).map((r) => r.body.model)).toEqual(['m-on-b']);
  });

  it('spreads requests by weight: 3:1 over 400 requests, in concurrent batches', async () => {
    const routing = twoProviders({ weightA: 3, weightB: 1 });
    for (let batch = 0; batch < 100; batch++) await Promise.all(Array.from({ length: 4 }, () => ask(routing, 'm')));
    const onA = completions(a).length;
    const onB = completions(b).length;
    expect(onA + onB).toBe(400);
    expect(onA).toBeGreaterThanOrEqual(280);
    expect(onA).toBeLessThanOrEqual(320);
  });

  it('sends the next request to the provider with fewer in flight', async () => {
    const routing = twoProviders();
    const held = signal();
    a.handle = async (request, res) => {
      await held.promise;
      json(res, 200, completion('slow', request.body.model));
    };
    const slow = ask(routing, 'm');
    await new Promise<void>((resolve) => {
      const check = () => (completions(a).length === 1 ? resolve() : setTimeout(check, 5));
      check();
    });
    for (let i = 0; i < 3; i++) await ask(routing, 'm');
    expect(completions(b)).toHaveLength(3);
    held.resolve();
    await slow;
    expect(completions(a)).toHaveLength(1);
  });

  it('opens a failing provider\'s circuit, keeps traffic away for the cool-down, then lets one trial through', async () => {
    const routing = twoProviders({ threshold: 2 });
    const [stateA] = routing.providers;
    a.handle = (_request, res) => json(res, 500, { error: { message: 'GPU on fire' } });
    // Failures reach the caller (a 500 may follow accepted work: nothing is sent elsewhere).
    while (completions(a).length < 2) {
      const before = completions(b).length;
      const outcome = await settle(ask(routing, 'm'));
      if (completions(b).length === before) expect(outcome).toMatchObject({ status: 500, type: 'provider_error' });
    }
    expect(stateA!.view()).toMatchObject({ state: 'open', consecutive_failures: 2, retry_at: Math.ceil((clock + 30_000) / 1000) });
    for (let i = 0; i < 10; i++) expect(await settle(ask(routing, 'm'))).toBe('ok');
    expect(completions(a)).toHaveLength(2);

    // The cool-down passes while A still fails: its one trial fails and the circuit opens again.
    clock += 30_000;
    expect(stateA!.view().state).toBe('half_open');
    while (completions(a).length < 3) await settle(ask(routing, 'm'));
    expect(stateA!.view().state).toBe('open');
    for (let i = 0; i < 5; i++) expect(await settle(ask(routing, 'm'))).toBe('ok');
    expect(completions(a)).toHaveLength(3);

    // Next time A has recovered: the trial succeeds and the circuit closes.
    clock += 30_000;
    a.reset();
    while (completions(a).length < 4) expect(await settle(ask(routing, 'm'))).toBe('ok');
    expect(stateA!.view()).toMatchObject({ state: 'closed', consecutive_failures: 0, retry_at: null });
  });

  it('still tries a provider whose circuit is open when it is the only one left', async () => {
    const config = parseProvidersFile(`providers:\n  - { name: a, kind: chat, base_url: "${a.url}/v1", any_model: true }\ncircuit: { failure_threshold: 1, cooldown_seconds: 60 }\n`, 'yaml', {});
    const routing = buildRouting(config, { maxImageBytes: 1024, modelsCacheTtlSeconds: 60, now: () => clock, retry: NO_WAIT_RETRY });
    a.handle = (_request, res) => json(res, 500, { error: { message: 'down' } });
    await settle(ask(routing, 'gpt-test'));
    expect(routing.providers[0]!.view().state).toBe('open');
    a.reset();
    expect(await settle(ask(routing, 'gpt-test'))).toBe('ok');
    expect(routing.providers[0]!.view().state).toBe('closed');
  });

  it('falls back when the connection is refused', async () => {
    const routing = twoProviders({ urlA: `http://127.0.0.1:${await freePort()}/v1`, weightA: 1000 });
    expect(await settle(ask(routing, 'm'))).toBe('ok');
    expect(completions(b).map((r) => r.body.model)).toEqual(['m-on-b']);
    expect(routing.providers[0]!.view().consecutive_failures).toBe(1);
  });

  it('falls back when the upstream answers 503 or 429 (it turned the request away)', async () => {
    for (const status of [503, 429]) {
      const routing = twoProviders({ weightA: 1000 });
      a.received.length = 0;
      b.received.length = 0;
      a.handle = (_request, res) => json(res, status, { error: { message: 'busy' } });
      expect(await settle(ask(routing, 'm'))).toBe('ok');
      expect(completions(a).length).toBeGreaterThan(0);
      expect(completions(b)).toHaveLength(1);
    }
  });

  it('does not fall back after a 500, a reset or a timeout: the work may have begun', async () => {
    const failures: Array<[string, (res: http.ServerResponse) => void]> = [
      ['500', (res) => json(res, 500, { error: { message: 'failed midway' } })],
      ['reset', (res) => res.socket?.destroy()],
      ['timeout', () => undefined],
    ];
    for (const [name, fail] of failures) {
      const routing = twoProviders({ weightA: 1000, timeout: 1 });
      a.received.length = 0;
      b.received.length = 0;
      a.handle = (_request, res) => fail(res);
      expect(await settle(ask(routing, 'm')), name).toMatchObject({ status: 500, type: 'provider_error' });
      // (A reset on a kept-alive connection may be taken for a stale socket and sent to A once more.)
      expect(completions(a).length, name).toBeGreaterThan(0);
      expect(completions(b), name).toHaveLength(0);
    }
  });

  it('streams through the chosen provider, and falls back before the stream is accepted', async () => {
    const routing = twoProviders({ urlA: `http://127.0.0.1:${await freePort()}/v1`, weightA: 1000 });
    const chunks = await routing.chat.stream(new ChatRequest({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }), new AbortController().signal);
    let text = '';
    for await (const chunk of chunks) text += Buffer.from(chunk).toString();
    expect(text).toContain('reply');
    expect(completions(b).map((r) => r.body.model)).toEqual(['m-on-b']);
    expect(routing.providers.every((p) => p.inFlight === 0)).toBe(true);
  });

  it('answers 404 model_not_found for a model no provider serves', async () => {
    const error = await settle(ask(twoProviders(), 'gpt-9'));
    expect(error).toMatchObject({ status: 404, type: 'not_found_error', param: 'model', code: 'model_not_found' });
    expect((error as ApiError).message).toContain("'gpt-9'");
    expect(a.received.length + b.received.length).toBe(0);
  });
});

describe('routing across image providers', () => {
  let a: ImageUpstream;
  let b: ImageUpstream;
  let image: Buffer;

  beforeAll(async () => {
    image = await png(8, 8, '#22aa44');
    a = await imageUpstream(image);
    b = await imageUpstream(image);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  function routingFor(urlA: string): Routing {
    const config = parseProvidersFile(
      `
providers:
  - { name: a, kind: image, base_url: "${urlA}", weight: 1000, models: [{ id: sd, upstream_model: sd-on-a }] }
  - { name: b, kind: image, base_url: "${b.origin}/v1", models: [{ id: sd, upstream_model: sd-on-b }] }
`,
      'yaml',
      {},
    );
    return buildRouting(config, { maxImageBytes: 1024 * 1024, modelsCacheTtlSeconds: 60, retry: NO_WAIT_RETRY });
  }

  const generate = (routing: Routing) => routing.images.generate({ prompt: 'x', n: 1, size: '1024x1024', model: 'sd', options: {} });

  it('falls back on a refused connection and on 429/503, naming the public model in the result', async () => {
    const refused = await generate(routingFor(`http://127.0.0.1:${await freePort()}/v1`));
    expect(refused.model).toBe('sd');
    expect(generations(b).map((r) => bodyOf(r).model)).toEqual(['sd-on-b']);
    for (const status of [429, 503]) {
      a.requests.length = 0;
      b.requests.length = 0;
      a.handler = (_req, res) => sendJson(res, status, { error: { message: 'queue full' } });
      await generate(routingFor(`${a.origin}/v1`));
      expect(generations(a).length).toBeGreaterThan(0);
      expect(generations(b)).toHaveLength(1);
    }
  });

  it('never sends an image call elsewhere after a 500: the second upstream receives nothing', async () => {
    a.requests.length = 0;
    b.requests.length = 0;
    a.handler = (_req, res) => sendJson(res, 500, { error: { message: 'out of memory after sampling' } });
    await expect(generate(routingFor(`${a.origin}/v1`))).rejects.toMatchObject({ status: 500, type: 'provider_error' });
    expect(generations(a)).toHaveLength(1);
    expect(generations(b)).toHaveLength(0);
  });
});
