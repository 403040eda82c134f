// Builds the Fastify app from the container: plugins, error shape, auth hook and routes.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import type { DestinationStream } from 'pino';
import type { Container } from './container.ts';
import { ulid } from './lib/ids.ts';
import { frameworkErrors, registerErrorHandlers } from './http/errors.ts';
import { registerSecurity } from './http/security.ts';
import { validatorCompiler } from './http/validation.ts';
import { authenticateWith } from './http/authenticate.ts';
import { ErrorResponse } from './http/schemas.ts';
import { authRoutes } from './http/auth.ts';
import { webRoutes } from './http/web.ts';
import { healthRoutes, type ReadinessCheck } from './http/health.ts';
import { registerRateLimits } from './http/rate-limit.ts';
import { registerIdempotency } from './http/idempotency.ts';
import { conversationRoutes } from './http/conversations.ts';
import { imageRoutes } from './http/images.ts';
import { imageJobRoutes } from './http/image-jobs.ts';
import { providerRoutes } from './http/providers.ts';
import { mediaRoutes, signedMediaRoutes } from './http/media.ts';
import { chatRoutes } from './http/chat.ts';
import { modelRoutes } from './http/models.ts';
import { apiKeyRoutes } from './http/api-keys.ts';
import { usageRoutes } from './http/usage.ts';
import { metricsRoutes, observeRequests } from './http/metrics.ts';
import { docsRoutes, openapiOptions } from './http/docs.ts';
import { createLogger, RequestLogController } from './observability/logger.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which configured rate limit applies to the route. */
    rateLimitKind?: 'guestLogin' | 'images' | 'chat';
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** TRUST_PROXY=<n>: believe the nearest n proxies (Fastify's numeric trustProxy, as a typed function). */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

export interface AppOptions {
  /** false for no logs; pino options to adjust Easel's logger; default: the configured level. */
  logger?: boolean | object;
  /** Where log lines go (tests read them); stdout by default. */
  logDestination?: DestinationStream;
  /** Sees every route as it is added (the OpenAPI coverage test lists them this way). */
  onRoute?: (route: RouteOptions) => void;
}

/** Configured secrets that must never appear in a log line, whatever logs them. */
const configuredSecrets = (config: Container['config']): string[] =>
  [
    config.llmProvider?.apiKey,
    config.imageProvider?.apiKey,
    ...config.providers.providers.map((p) => p.endpoint?.apiKey),
    config.metricsToken,
    config.media.store === 's3' ? config.media.s3.secretAccessKey : undefined,
  ].filter((s): s is string => typeof s === 'string');

export async function buildApp(container: Container, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = container;
  const logger = options.logger === false
    ? undefined
    : await createLogger({
      level: config.logLevel,
      destination: options.logDestination,
      secrets: configuredSecrets(config),
      options: typeof options.logger === 'object' ? options.logger : undefined,
    });
  const app = Fastify({
    ...(logger ? { loggerInstance: logger as FastifyBaseLogger } : { logger: false }),
    // One line per request, written when it completes, with the user and route, instead of Fastify's two.
    logController: new RequestLogController(),
    bodyLimit: config.bodyLimitBytes,
    // A client's own request id is kept when it is safe to log; otherwise Easel makes one.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req_${ulid()}`;
    },
    return503OnClosing: true,
    // A path the router cannot decode still gets Easel's error shape and a request id.
    frameworkErrors,
    // Behind a reverse proxy, the client's IP (per-IP limits, logs) comes from X-Forwarded-For.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  app.setValidatorCompiler(validatorCompiler);
  // JSON only: a text/plain body is refused with 415 rather than validated as a string.
  app.removeContentTypeParser('text/plain');
  app.addSchema(ErrorResponse);
  app.decorateRequest('principal', null);
  // Hooks that never wait are written with `done`: an async one costs a promise and a microtask per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // A POST with no body at all means "no fields": validate it as {} so defaults and required fields apply.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.body === undefined && request.method === 'POST' && !request.headers['content-type']) request.body = {};
    done();
  });
  registerErrorHandlers(app);
  // Before any route: it attaches to routes as they are added.
  registerRateLimits(app, { limits: config.rateLimits, counter: container.rateCounter, onLimited: (kind) => container.metrics.rateLimited(kind) });
  registerIdempotency(app, container.idempotency);
  registerSecurity(app, config.corsOrigins);
  observeRequests(app, container.metrics);

  await app.register(swagger, openapiOptions);
  await app.register(docsRoutes);
  await app.register(metricsRoutes(container));

  await app.register(authRoutes(container));
  await app.register(apiKeyRoutes(container));
  const readiness: ReadinessCheck[] = [['media', () => container.mediaStore.ping()]];
  // Rate limits fail open without Redis, so its absence degrades the instance rather than unreadies it.
  if (container.redis) readiness.push(['redis', () => container.redis!.ping(), { critical: false }]);
  await app.register(healthRoutes(container, readiness));
  // Signed image URLs work without a token, at /images whatever prefix MEDIA_PUBLIC_URL shows.
  await app.register(signedMediaRoutes(container));
  await app.register(webRoutes(container));
  await app.register(async (v1) => {
    v1.addHook('onRequest', authenticateWith(container.auth));
    await v1.register(conversationRoutes(container));
    await v1.register(imageRoutes(container));
    await v1.register(imageJobRoutes(container));
    await v1.register(providerRoutes(container));
    await v1.register(mediaRoutes(container));
    await v1.register(modelRoutes(container));
    await v1.register(chatRoutes(container));
    await v1.register(usageRoutes(container));
  }, { prefix: '/v1' });

  return app;
}
