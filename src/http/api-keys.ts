// API keys for the signed-in user: create (shown once), list, delete. Creating needs an access token.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';
import { MAX_LIFETIME_DAYS } from '../services/api-keys.ts';
import { authenticateWith, principalOf, userIdOf } from './authenticate.ts';
import { errors } from './schemas.ts';

const ApiKey = Type.Object({
  id: Type.String({ example: 'key_01jg8x0v9q4m6t2w7k3c5r8b1d' }),
  object: Type.Literal('api_key'),
  name: Type.String({ example: 'ci-pipeline' }),
  prefix: Type.String({ description: 'The first characters of the key', example: 'sk_live_Q3vb' }),
  suffix: Type.String({ description: 'The last four characters of the key', example: 'x9Tw' }),
  created_at: Type.Integer({ example: 1735689600 }),
  last_used_at: Type.Union([Type.Integer(), Type.Null()], { description: 'Unix seconds; updated at most once a minute' }),
  expires_at: Type.Union([Type.Integer(), Type.Null()], { description: 'Unix seconds; null for a key that never expires' }),
});

const CreatedApiKey = Type.Object(
  { ...ApiKey.properties, key: Type.String({ description: 'The key itself. Shown only in this response: store it now.', example: 'sk_live_Q3vb…x9Tw' }) },
  { description: 'The new key' },
);

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, example: 'ci-pipeline' }),
    expires_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIFETIME_DAYS, description: 'Lifetime in days; omit (and expires_at) for a key that never expires' })),
    expires_at: Type.Optional(Type.Integer({ minimum: 0, description: 'Expiry as Unix seconds; instead of expires_in_days' })),
  },
  { additionalProperties: false, examples: [{ name: 'ci-pipeline', expires_in_days: 90 }] },
);

const KeyParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

export function apiKeyRoutes(container: Container): FastifyPluginAsyncTypebox {
  const { apiKeys } = container;
  const tags = ['auth'];
  const security = [{ bearer: [] }];
  return async (app) => {
    app.addHook('onRequest', authenticateWith(container.auth));

    app.post('/auth/api-keys', {
      schema: {
        tags,
        summary: 'Create an API key (needs an access token, not an API key)',
        description: 'The key is returned once, in `key`; only its hash is stored. Use it as `Authorization: Bearer sk_live_…`.',
        security,
        body: CreateBody,
        response: { 201: CreatedApiKey, ...errors(400, 401, 403, 409) },
      },
    }, async (request, reply) => reply.code(201).send(await apiKeys.createFor(principalOf(request), request.body)));

    app.get('/auth/api-keys', {
      schema: {
        tags,
        summary: 'List my API keys, newest first',
        security,
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(ApiKey) }), ...errors(401) },
      },
    }, async (request) => ({ object: 'list' as const, data: await apiKeys.list(userIdOf(request)) }));

    app.delete('/auth/api-keys/:id', {
      schema: {
        tags,
        summary: 'Delete (revoke) an API key; it stops working at once',
        security,
        params: KeyParams,
        response: {
          200: Type.Object({ id: Type.String(), object: Type.Literal('api_key.deleted'), deleted: Type.Literal(true) }),
          ...errors(401, 404),
        },
      },
    }, async (request) => apiKeys.delete(userIdOf(request), request.params.id));
  };
}
