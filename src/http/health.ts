import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';

/**
 * A readiness check: name and a probe that throws when the dependency is down. A check that is not
 * critical (a dependency Easel works around, like Redis for rate limits) is reported without making
 * the instance unready: taking every instance out of the load balancer would turn a degraded service
 * into an outage.
 */
export type ReadinessCheck = [name: string, probe: () => Promise<void>, options?: { critical: boolean }];

export function healthRoutes(container: Container, checks: ReadinessCheck[]): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness' }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

    app.get('/readyz', { schema: { tags: ['health'], summary: 'Readiness: database and other dependencies' }, logLevel: 'warn' }, async (request, reply) => {
      const all: ReadinessCheck[] = [['database', () => container.db.ping()], ...checks];
      const results = await Promise.all(
        all.map(async ([name, probe, options]) => {
          const critical = options?.critical ?? true;
          try {
            await probe();
            return [name, { status: 'ok' }, critical] as const;
          } catch (error) {
            request.log.warn({ err: error, check: name }, 'readiness check failed');
            return [name, { status: 'error' }, critical] as const;
          }
        }),
      );
      const failed = results.filter(([, r]) => r.status !== 'ok');
      const ready = failed.every(([, , critical]) => !critical);
      const status = !ready ? 'error' : failed.length > 0 ? 'degraded' : 'ok';
      return reply.code(ready ? 200 : 503).send({ status, checks: Object.fromEntries(results.map(([name, r]) => [name, r])) });
    });
  };
}
