// The OpenAPI document (/openapi.json), generated from the route schemas, and its browsable page (/docs,
// Swagger UI served from the package's own files: no CDN). Routes declare their own success responses
// and errors(...); the transform below adds what holds for every route of a kind (authenticated routes
// can answer 401, validated ones 400, every one 500), each with a description and an example body.
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync, RouteOptions } from 'fastify';
import type { SwaggerOptions } from '@fastify/swagger';

type Schema = Record<string, any>;

const STATUS_TEXT: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' };

const errorExample = (type: string, message: string, param: string | null, code: string | null) => ({ error: { message, type, param, code } });

/** What each error status means in Easel, with the body a client sees. */
const ERRORS: Record<number, { description: string; example: object }> = {
  400: { description: 'Invalid request: malformed JSON or a missing or invalid field (named in `param`)', example: errorExample('invalid_request_error', "Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter') },
  401: { description: 'Missing, invalid, revoked or expired token or API key', example: errorExample('authentication_error', 'Invalid access token', null, 'invalid_token') },
  403: { description: 'Not allowed', example: errorExample('permission_error', 'Invalid or expired signature', null, 'forbidden') },
  404: { description: 'Unknown id, or one owned by another user', example: errorExample('not_found_error', "No conversation with id 'conv_01jg8x0v9q4m6t2w7k3c5r8b1d'", 'id', 'not_found') },
  409: { description: 'Conflicts with the current state', example: errorExample('conflict_error', 'A user may have at most 20 API keys; delete one first.', null, 'conflict') },
  413: { description: 'Body over the size limit', example: errorExample('invalid_request_error', 'Request body is too large.', null, 'payload_too_large') },
  415: { description: 'Body is not JSON', example: errorExample('invalid_request_error', 'Unsupported Content-Type; send application/json.', null, 'unsupported_media_type') },
  429: { description: 'Over a rate limit; see the Retry-After header', example: errorExample('rate_limit_error', 'Rate limit exceeded: 60/min. Retry after 12 seconds.', null, 'rate_limit_exceeded') },
  500: { description: 'Server or upstream provider error', example: errorExample('server_error', 'The server had an error while processing your request.', null, 'internal_error') },
  501: { description: 'Feature disabled', example: errorExample('not_implemented_error', 'Image generation is disabled on this server', null, 'feature_disabled') },
  503: { description: 'Shutting down or not ready', example: errorExample('server_error', 'Service Unavailable', null, null) },
};

function errorResponse(status: number): Schema {
  const known = ERRORS[status] ?? { description: 'Error', example: errorExample('invalid_request_error', 'Error', null, null) };
  return { description: known.description, content: { 'application/json': { schema: { $ref: 'ErrorResponse' }, example: known.example } } };
}

const isErrorRef = (schema: Schema | undefined) => typeof schema?.$ref === 'string' && schema.$ref.replace(/#$/, '') === 'ErrorResponse';

/** Routes that opt in to idempotency (see http/idempotency.ts) document the header that turns it on. */
const IDEMPOTENCY_HEADERS: Schema = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      maxLength: 255,
      description: 'Replays the stored answer of an earlier request with the same key and body (24 h) instead of calling the provider again; another body → 409.',
    },
  },
};

/** Every route under /v1, and any route that declares security, takes a bearer token. */
function isAuthenticated(url: string, schema: Schema): boolean {
  return url.startsWith('/v1/') || (Array.isArray(schema.security) && schema.security.length > 0);
}

/** The route's schema as documented: implied errors added, descriptions and examples filled in. Never mutates the route. */
export function documentRoute(url: string, route: RouteOptions, schema: Schema = {}): Schema {
  if (schema.hide) return schema;
  const declared: Schema = schema.response ?? {};
  const responses: Schema = {};
  for (const [status, response] of Object.entries(declared)) {
    if (isErrorRef(response)) responses[status] = errorResponse(Number(status));
    else if (/^2/.test(status) && !response?.description) responses[status] = { ...response, description: STATUS_TEXT[status] ?? 'Success' };
    else responses[status] = response;
  }
  if (!Object.keys(responses).some((s) => /^2/.test(s))) responses['2XX'] = { description: 'Success' };

  const implied: number[] = [500];
  const authenticated = isAuthenticated(url, schema);
  if (schema.body || schema.querystring || schema.params) implied.push(400);
  if (schema.body) implied.push(413, 415);
  if (authenticated) implied.push(401);
  if (schema.params) implied.push(404);
  const config = (route.config ?? {}) as { rateLimitKind?: string; idempotent?: boolean };
  if (config.rateLimitKind) implied.push(429);
  if (config.idempotent) implied.push(409);
  for (const status of implied) responses[status] ??= errorResponse(status);

  return {
    ...schema,
    ...(config.idempotent ? { headers: IDEMPOTENCY_HEADERS } : {}),
    response: responses,
    ...(authenticated || schema.security ? {} : { security: [] }),
  };
}

export const openapiOptions: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'Easel',
      version: '0.1.0',
      description: 'Self-hosted OpenAI-compatible chat and image generation server. Errors are always OpenAI-shaped: `{"error": {"message", "type", "param", "code"}}`.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT access token or sk_live_ API key' } } },
    security: [{ bearer: [] }],
  },
  // Shared schemas keep their own names in components.schemas (ErrorResponse, not def-0).
  refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  transform: ({ schema, url, route }) => ({ schema: documentRoute(url, route, schema as Schema) as never, url }),
};

/** GET /openapi.json and the Swagger UI at /docs. Register after @fastify/swagger. */
export const docsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/openapi.json', {
    schema: { tags: ['operations'], summary: 'This OpenAPI 3.1 document', security: [], response: { 200: { description: 'The OpenAPI document', type: 'object', additionalProperties: true } } },
  }, async () => app.swagger());

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No calls out: the online validator badge would send the document to a third party.
    uiConfig: { validatorUrl: null, deepLinking: true },
    staticCSP: true,
  });
};
