// `Idempotency-Key` for routes that declare `config: { idempotent: true }` (image generations and edits,
// chat completions). The key is checked after the body is validated and before the handler runs: the same
// key and request replay the stored response (with `Idempotent-Replayed: true`), another request under
// the key or one still running is 409. Only 2xx responses are kept; a failure releases the key.
// `stream: true` with a key is refused (400): a stream cannot be replayed, and a half-kept one would lie.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { badRequest } from '../lib/errors.ts';
import type { Claim, IdempotencyService } from '../services/idempotency.ts';
import { userIdOf } from './authenticate.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route honours Idempotency-Key. */
    idempotent?: boolean;
  }
}

/** Visible ASCII, as Stripe and OpenAI clients send (UUIDs, mostly). */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** Headers that belong to the answer itself, so a replay carries them too (an async job's 202 names it). */
const ANSWER_HEADERS = ['location', 'preference-applied'];

function answerHeaders(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ANSWER_HEADERS) {
    const value = reply.getHeader(name);
    if (value !== undefined) headers[name] = String(value);
  }
  return headers;
}

/** A stable text for a validated body: keys sorted, uploaded bytes by their hash. */
function canonical(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { $sha256: createHash('sha256').update(value).digest('hex') };
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

export function requestHash(request: FastifyRequest, userId: string): string {
  return createHash('sha256').update(JSON.stringify([request.method, request.url, userId, canonical(request.body ?? null)])).digest('hex');
}

/** Installs the check; call before any route is registered (it watches routes as they are added). */
export function registerIdempotency(app: FastifyInstance, service: IdempotencyService): void {
  const claims = new WeakMap<FastifyRequest, Claim>();

  const release = async (request: FastifyRequest, claim: Claim) => {
    claims.delete(request);
    await service.release(claim).catch((error: unknown) => request.log.error({ err: error }, 'could not release an idempotency key'));
  };

  async function claimKey(request: FastifyRequest, reply: FastifyReply) {
    const key = request.headers['idempotency-key'];
    if (key === undefined) return;
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw badRequest('Invalid Idempotency-Key header: use 1 to 255 visible ASCII characters, such as a UUID.', null, 'invalid_idempotency_key');
    }
    if ((request.body as { stream?: unknown } | undefined)?.stream === true) {
      throw badRequest('Idempotency-Key cannot be used with stream: true; send one or the other.', 'stream', 'idempotency_stream_unsupported');
    }
    const userId = userIdOf(request);
    const begun = await service.begin(userId, key, requestHash(request, userId));
    if (begun.kind === 'replay') {
      const { status, contentType, body, headers } = begun.response;
      return reply.code(status).headers(headers).header('idempotent-replayed', 'true').type(contentType).send(body);
    }
    claims.set(request, begun.claim);
  }

  // Kept before the response leaves, so a repeat that arrives the moment it is read finds it.
  async function keepResponse(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    const claim = claims.get(request);
    if (!claim) return payload;
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
    if (reply.statusCode < 200 || reply.statusCode >= 300 || body === undefined) {
      await release(request, claim);
      return payload;
    }
    claims.delete(request);
    try {
      await service.complete(claim, { status: reply.statusCode, contentType: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'), body, headers: answerHeaders(reply) });
    } catch (error) {
      // The work is done and the answer is ready: it goes out; the key stays claimed until it goes stale.
      request.log.error({ err: error }, 'could not keep the response of an idempotent request');
    }
    return payload;
  }

  // A request that ended without a response passing through onSend (hijacked, aborted) frees its key.
  async function releaseUnanswered(request: FastifyRequest) {
    const claim = claims.get(request);
    if (claim) await release(request, claim);
  }

  const append = <T>(own: T | T[] | undefined, hook: T): T[] => [...(own === undefined ? [] : Array.isArray(own) ? own : [own]), hook];

  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.config?.idempotent) return;
    route.preHandler = append(route.preHandler, claimKey as never);
    route.onSend = append(route.onSend, keepResponse as never);
    route.onResponse = append(route.onResponse, releaseUnanswered as never);
  });
}
