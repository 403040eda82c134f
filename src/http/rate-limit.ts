// Rate limits for routes that declare `config: { rateLimitKind }`: per IP for guest login, per user
// for the rest. The check is a route-level onRequest hook, so it runs after the /v1 auth hook has set
// the principal and before the body is read: an over-limit upload is refused without being parsed.
// When the counter store (Redis) fails, the request is let through and a warning logged (fail open).
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler, RouteOptions } from 'fastify';
import type { RateLimit } from '../config.ts';
import { ApiError } from '../lib/errors.ts';
import { ipSubnet } from '../lib/ip-subnet.ts';
import type { WindowCounter } from '../store/rate-counters/window-counter.ts';

export type RateLimitKind = 'guestLogin' | 'images' | 'chat';

const LABELS: Record<RateLimitKind, { what: string; per: 'ip' | 'user' }> = {
  guestLogin: { what: 'guest logins', per: 'ip' },
  images: { what: 'image generations and edits', per: 'user' },
  chat: { what: 'chat completions', per: 'user' },
};

const FAIL_OPEN_WARNING_INTERVAL_MS = 30_000;

export function rateLimitExceeded(kind: RateLimitKind, limit: RateLimit, retryAfterMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const { what, per } = LABELS[kind];
  return new ApiError(
    429,
    'rate_limit_error',
    `Rate limit reached for ${what}: limit ${limit.text} per ${per === 'ip' ? 'IP address' : 'user'}. Please try again in ${seconds}s.`,
    { code: 'rate_limit_exceeded', headers: { 'retry-after': String(seconds), 'retry-after-ms': String(Math.max(0, Math.ceil(retryAfterMs))) } },
  );
}

export interface RateLimitOptions {
  limits: Record<RateLimitKind, RateLimit>;
  counter: WindowCounter;
  /** Told of every refused request (metrics). */
  onLimited?: (kind: RateLimitKind) => void;
}

/** Installs the limits; call before any route is registered (it watches routes as they are added). */
export function registerRateLimits(app: FastifyInstance, options: RateLimitOptions): void {
  let lastWarningAt = -Infinity;
  const failOpen = (request: FastifyRequest, error: unknown) => {
    const now = Date.now();
    if (now - lastWarningAt < FAIL_OPEN_WARNING_INTERVAL_MS) return;
    lastWarningAt = now;
    request.log.warn({ err: error, store: options.counter.kind }, 'rate limit store unavailable; allowing requests (fail open)');
  };

  const hookFor = (kind: RateLimitKind): onRequestAsyncHookHandler => {
    const limit = options.limits[kind];
    const perIp = LABELS[kind].per === 'ip';
    return async function rateLimit(request: FastifyRequest, reply: FastifyReply) {
      // Per-user routes sit behind the auth hook; without a principal it has already refused the request.
      const subject = perIp ? `ip:${ipSubnet(request.ip)}` : request.principal ? `user:${request.principal.userId}` : undefined;
      if (subject === undefined) return;
      let hit;
      try {
        hit = await options.counter.hit(`${kind}:${subject}`, limit.windowMs);
      } catch (error) {
        failOpen(request, error);
        return;
      }
      reply.header('x-ratelimit-limit-requests', limit.max);
      reply.header('x-ratelimit-remaining-requests', Math.max(0, limit.max - hit.count));
      reply.header('x-ratelimit-reset-requests', `${Math.max(1, Math.ceil(hit.resetInMs / 1000))}s`);
      if (hit.count > limit.max) {
        options.onLimited?.(kind);
        throw rateLimitExceeded(kind, limit, hit.resetInMs);
      }
    };
  };
  const hooks = new Map((Object.keys(LABELS) as RateLimitKind[]).map((kind) => [kind, hookFor(kind)]));

  app.addHook('onRoute', (route: RouteOptions) => {
    const kind = route.config?.rateLimitKind;
    if (!kind) return;
    const hook = hooks.get(kind);
    if (!hook) throw new Error(`Unknown rateLimitKind ${JSON.stringify(kind)} on ${route.method} ${route.url}`);
    // Route-level hooks run after the scope's (authentication), whatever the order they were added in.
    const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [...own, hook];
  });
}
