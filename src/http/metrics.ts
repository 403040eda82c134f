// GET /metrics (Prometheus text), and the onResponse hook that counts and times every request.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from 'typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';
import type { Metrics } from '../observability/metrics.ts';
import { unauthorized } from '../lib/errors.ts';
import { errors } from './schemas.ts';

/** The route label of requests that matched no route, so random URLs cannot grow the registry. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Observes each answered request by route pattern and status; a few hundred nanoseconds of work. */
export function observeRequests(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** With METRICS_TOKEN set, a scrape must send it as a bearer token; without, /metrics is open. */
function requireToken(token: string | undefined) {
  if (token === undefined) return undefined;
  const expected = digest(token);
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    // Comparing digests keeps the comparison constant-time whatever the length given.
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) throw unauthorized('Missing or invalid metrics token');
  };
}

export function metricsRoutes(container: Container): FastifyPluginAsyncTypebox {
  const guard = requireToken(container.config.metricsToken);
  return async (app) => {
    app.get('/metrics', {
      ...(guard ? { onRequest: guard } : {}),
      logLevel: 'warn',
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description: 'Prometheus text exposition format. When METRICS_TOKEN is set, send it as `Authorization: Bearer <METRICS_TOKEN>`.',
        security: guard ? [{ bearer: [] }] : [],
        response: {
          200: {
            description: 'Metrics in Prometheus text format',
            content: { 'text/plain': { schema: Type.String({ example: 'easel_http_requests_total{method="GET",route="/v1/models",status="200"} 42' }) } },
          },
          ...errors(401),
        },
      },
    }, async (_request, reply) => {
      const { contentType, body } = await container.metrics.render();
      return reply.type(contentType).send(body);
    });
  };
}
