// Property-based fuzzing of every route the app registers (found as they are added, so routes added later
// are fuzzed too): hostile paths, ids, query strings, headers and bodies. Whatever comes in, the answer is
// never a 5xx, every answer has an x-request-id, and every 4xx is OpenAI's error shape. Runs on the real
// app and a real SQLite database with the demo models, as a guest for /v1.
// Seeded and reproducible: FUZZ_SEED and FUZZ_RUNS override the defaults.
import fs from 'node:fs';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { buildApp } from '../../src/app.ts';
import { guestLogin, testEnv } from '../helpers/app.ts';
import { png } from '../images/support.ts';
import { requestArbitrary, unknownRouteArbitrary, type FuzzContext, type FuzzRequest, type FuzzRoute } from './fuzz-arbitraries.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
/** FUZZ_VERBOSE=1 prints the answers' statuses per route, to see how deep the requests get. */
const VERBOSE = process.env.FUZZ_VERBOSE === '1';

/** Why an answer breaks the contract, or undefined when it keeps it. */
function violation(request: FuzzRequest, res: LightMyRequestResponse): string | undefined {
  if (res.statusCode >= 500) return `status ${res.statusCode}: ${res.body.slice(0, 300)}`;
  const id = res.headers['x-request-id'];
  if (typeof id !== 'string' || id === '') return 'no x-request-id';
  if (res.statusCode < 400 || request.method === 'HEAD') return undefined;
  let body: unknown;
  try {
    body = res.json();
  } catch {
    return `a ${res.statusCode} that is not JSON: ${res.body.slice(0, 200)}`;
  }
  const error = (body as { error?: Record<string, unknown> })?.error;
  const shaped =
    error !== undefined &&
    Object.keys(body as object).join() === 'error' &&
    Object.keys(error).sort().join() === 'code,message,param,type' &&
    typeof error.message === 'string' &&
    typeof error.type === 'string' &&
    (error.param === null || typeof error.param === 'string') &&
    (error.code === null || typeof error.code === 'string');
  return shaped ? undefined : `a ${res.statusCode} not in OpenAI's error shape: ${res.body.slice(0, 300)}`;
}

/** The routes as registered, one entry per path with all its methods and the schemas that shape a body. */
function collectRoutes(routes: RouteOptions[]): FuzzRoute[] {
  const byUrl = new Map<string, FuzzRoute>();
  for (const route of routes) {
    const entry = byUrl.get(route.url) ?? { url: route.url, methods: [] };
    entry.methods.push(...[route.method].flat());
    const schema = route.schema as { body?: { content?: Record<string, { schema: unknown }> }; querystring?: unknown } | undefined;
    const content = schema?.body?.content;
    if (content) {
      entry.body ??= content['application/json']?.schema;
      entry.multipart ??= content['multipart/form-data']?.schema;
    } else if (schema?.body) {
      entry.body ??= schema.body;
    }
    entry.querystring ??= schema?.querystring;
    byUrl.set(route.url, entry);
  }
  return [...byUrl.values()];
}

describe('fuzzing every route', () => {
  let container: Container;
  let app: FastifyInstance;
  let env: Record<string, string>;
  const registered: RouteOptions[] = [];
  let context: FuzzContext;
  /** A new conversation with an item, since fuzzed DELETEs may have taken the last ones. */
  let freshIds: () => Promise<string[]>;

  beforeAll(async () => {
    // Limits high enough that requests reach validation and handlers rather than the rate limiter.
    env = testEnv('sqlite', { RATE_LIMIT_GUEST_LOGIN: '1000000/min', RATE_LIMIT_IMAGES: '1000000/min', RATE_LIMIT_CHAT: '1000000/min' });
    container = await createContainer(loadConfig(env));
    app = await buildApp(container, { logger: false, onRoute: (route) => registered.push(route) });
    await app.ready();

    // Real things to aim at: the caller's conversation, item and image, someone else's, and a deleted one.
    const alice = await guestLogin(app);
    const bob = await guestLogin(app);
    const as = (token: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
      app.inject({ method, url, payload, headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
    freshIds = async () => {
      const conv = await as(alice.token, 'POST', '/v1/conversations', { items: [{ role: 'user', content: 'hello' }] });
      const item = (await as(alice.token, 'GET', `/v1/conversations/${conv.id}/items`)).data[0];
      return [conv.id, item.id];
    };
    const [conv] = await freshIds();
    const image = (await as(alice.token, 'POST', '/v1/images/generations', { prompt: 'fuzz', size: '512x512', conversation_id: conv })).data[0];
    const bobs = await as(bob.token, 'POST', '/v1/conversations', {});
    const bobsImage = (await as(bob.token, 'POST', '/v1/images/generations', { prompt: 'bob', size: '512x512' })).data[0];
    const deleted = await as(alice.token, 'POST', '/v1/conversations', {});
    await as(alice.token, 'DELETE', `/v1/conversations/${deleted.id}`);
    const signed = new URL(image.url);
    context = {
      ids: [image.id, bobs.id, bobsImage.id, deleted.id, 'easel-demo-chat', `${image.id}.png`, signed.pathname.split('/').pop()!],
      tokens: [alice.token],
      png: await png(8, 8),
    };
  });
  afterAll(async () => {
    await app?.close();
    await container?.close();
    fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  it(`answers ${RUNS}+ hostile requests without a 5xx, always with a request id and OpenAI-shaped 4xx`, async () => {
    const routes = collectRoutes(registered);
    // Every part of the API is there to be fuzzed.
    for (const url of ['/auth/guest-login', '/v1/conversations/:id/items/:item_id', '/v1/images/generations', '/v1/images/edits', '/v1/chat/completions', '/v1/media/:id', '/images/:file']) {
      expect(routes.map((r) => r.url)).toContain(url);
    }
    const perRoute = Math.ceil(RUNS / (routes.length + 1));
    process.stdout.write(`fuzz: seed ${SEED}, ${perRoute} requests on each of ${routes.length} routes and unknown ones (FUZZ_SEED, FUZZ_RUNS)\n`);

    let sent = 0;
    const statuses = new Map<string, number>();
    let routeStatuses = new Map<number, number>();
    const send = async (request: FuzzRequest) => {
      sent++;
      const res = await app.inject(request);
      const family = `${Math.floor(res.statusCode / 100)}xx`;
      statuses.set(family, (statuses.get(family) ?? 0) + 1);
      routeStatuses.set(res.statusCode, (routeStatuses.get(res.statusCode) ?? 0) + 1);
      const problem = violation(request, res);
      if (problem) throw new Error(`${request.method} ${request.url.slice(0, 200)} → ${problem}`);
    };
    const targets: Array<[string, (c: FuzzContext) => fc.Arbitrary<FuzzRequest>]> = [
      ...routes.map((route): [string, (c: FuzzContext) => fc.Arbitrary<FuzzRequest>] => [`${route.methods.join(',')} ${route.url}`, (c) => requestArbitrary(route, c)]),
      ['unknown routes', unknownRouteArbitrary],
    ];
    for (const [name, arbitraryFor] of targets) {
      const arbitrary = arbitraryFor({ ...context, ids: [...(await freshIds()), ...context.ids] });
      routeStatuses = new Map();
      const result = await fc.check(fc.asyncProperty(arbitrary, send), { seed: SEED, numRuns: perRoute });
      if (result.failed) expect.fail(`${name}: ${fc.defaultReportMessage(result)}`);
      if (VERBOSE) process.stdout.write(`  ${name}: ${[...routeStatuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}\n`);
    }
    process.stdout.write(`fuzz: ${sent} requests answered: ${[...statuses].sort().map(([f, n]) => `${f} ${n}`).join(', ')}\n`);
    expect(sent).toBeGreaterThanOrEqual(RUNS);
  }, 300_000);
});
