// Response hardening every route shares: security headers, and CORS only for origins the operator lists.
import type { FastifyInstance, FastifyReply } from 'fastify';

const API_CSP = "default-src 'none'; frame-ancestors 'none'";
const ALLOWED_HEADERS = 'authorization, content-type, idempotency-key, x-request-id, prefer';
const EXPOSED_HEADERS = 'x-request-id, retry-after, etag';

export function registerSecurity(app: FastifyInstance, corsOrigins: string[]): void {
  const anyOrigin = corsOrigins.includes('*');
  const allowed = new Set(corsOrigins);

  // Written with `done` rather than async: they run for every request and never wait.
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (!origin || !(anyOrigin || allowed.has(origin))) return done();
    reply.header('access-control-allow-origin', anyOrigin ? '*' : origin);
    if (!anyOrigin) reply.header('vary', 'Origin');
    reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      reply
        .header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS')
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', '600');
      // Answered here: the request goes no further (and done() is not called).
      reply.code(204).send();
      return;
    }
    done();
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    setSecurityHeaders(reply);
    done(null, payload);
  });
}

/** The headers every answer carries; also called where Fastify answers before any hook runs. */
export function setSecurityHeaders(reply: FastifyReply): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  // Pages set their own policy; everything else is data and must never be framed or run.
  if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', API_CSP);
  if (!reply.hasHeader('x-frame-options')) reply.header('x-frame-options', 'DENY');
}
