// Builds the Fastify app from the container: plugins, error shape, auth hook and routes.
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import type { Container } from './container.ts';
import { ulid } from './lib/ids.ts';
import { registerErrorHandlers } from './http/errors.ts';
import { registerSecurity } from './http/security.ts';
import { validatorCompiler } from './http/validation.ts';
import { authenticateWith } from './http/authenticate.ts';
import { ErrorResponse } from './http/schemas.ts';
import { authRoutes } from './http/auth.ts';
import { healthRoutes } from './http/health.ts';
import { conversationRoutes } from './http/conversations.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which configured rate limit applies to the route. */
    rateLimitKind?: 'guestLogin' | 'images' | 'chat';
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface AppOptions {
  /** pino options or false; defaults to the configured level. */
  logger?: boolean | object;
}

export async function buildApp(container: Container, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = container;
  const app = Fastify({
    logger: options.logger ?? {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
    },
    bodyLimit: config.bodyLimitBytes,
    // A client's own request id is kept when it is safe to log; otherwise Easel makes one.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req_${ulid()}`;
    },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // JSON only: a text/plain body is refused with 415 rather than validated as a string.
  app.removeContentTypeParser('text/plain');
  app.addSchema(ErrorResponse);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // A POST with no body at all means "no fields": validate it as {} so defaults and required fields apply.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method === 'POST' && !request.headers['content-type']) request.body = {};
  });
  registerErrorHandlers(app);
  registerSecurity(app, config.corsOrigins);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Easel', version: '0.1.0', description: 'Self-hosted OpenAI-compatible chat and image generation server' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or sk_ API key' } } },
      security: [{ bearer: [] }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(authRoutes(container));
  await app.register(healthRoutes(container, []));
  await app.register(async (v1) => {
    v1.addHook('onRequest', authenticateWith(container.auth));
    await v1.register(conversationRoutes(container));
  }, { prefix: '/v1' });

  return app;
}
