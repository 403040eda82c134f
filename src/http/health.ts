import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';

/** A readiness check: name and a probe that throws when the dependency is down. */
export type ReadinessCheck = [name: string, probe: () => Promise<void>];

export function healthRoutes(container: Container, checks: ReadinessCheck[]): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness' }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

    app.get('/readyz', { schema: { tags: ['health'], summary: 'Readiness: database and other dependencies' }, logLevel: 'warn' }, async (request, reply) => {
      const all: ReadinessCheck[] = [['database', () => container.db.ping()], ...checks];
      const results = await Promise.all(
        all.map(async ([name, probe]) => {
          try {
            await probe();
            return [name, { status: 'ok' }] as const;
          } catch (error) {
            request.log.warn({ err: error, check: name }, 'readiness check failed');
            return [name, { status: 'error' }] as const;
          }
        }),
      );
      const ok = results.every(([, r]) => r.status === 'ok');
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'error', checks: Object.fromEntries(results) });
    });
  };
}
