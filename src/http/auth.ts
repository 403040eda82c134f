import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';
import { toSeconds } from '../lib/time.ts';
import { authenticateWith, userIdOf } from './authenticate.ts';
import { errors } from './schemas.ts';

const TokenResponse = Type.Object({
  user_id: Type.String({ example: 'guest-01jg8x0v9q4m6t2w7k3c5r8b1d' }),
  username: Type.String(),
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
});

const RefreshBody = Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false });

const UserView = Type.Object({
  id: Type.String(),
  object: Type.Literal('user'),
  user_id: Type.String(),
  username: Type.String(),
  kind: Type.String(),
  created_at: Type.Integer(),
});

export function authRoutes(container: Container): FastifyPluginAsyncTypebox {
  const { auth } = container;
  return async (app) => {
    app.post('/auth/guest-login', {
      schema: {
        tags: ['auth'],
        summary: 'Create a guest account and get tokens',
        body: Type.Object({}, { additionalProperties: true }),
        response: { 201: TokenResponse, ...errors(400, 429) },
      },
      config: { rateLimitKind: 'guestLogin' },
    }, async (_request, reply) => {
      const { user, tokens } = await auth.guestLogin();
      return reply.code(201).send({ user_id: user.id, username: user.username, ...tokens });
    });

    app.post('/auth/refresh-token', {
      schema: { tags: ['auth'], summary: 'Exchange a refresh token for a new pair (rotation)', body: RefreshBody, response: { 200: TokenResponse, ...errors(400, 401) } },
    }, async (request) => {
      const { user, tokens } = await auth.refresh(request.body.refresh_token);
      return { user_id: user.id, username: user.username, ...tokens };
    });

    app.post('/auth/logout', {
      schema: { tags: ['auth'], summary: 'Revoke a refresh token and its session', body: RefreshBody, response: errors(400) },
    }, async (request, reply) => {
      await auth.logout(request.body.refresh_token);
      return reply.code(204).send();
    });

    app.get('/auth/me', {
      onRequest: authenticateWith(auth),
      schema: { tags: ['auth'], summary: 'The current user', security: [{ bearer: [] }], response: { 200: UserView, ...errors(401) } },
    }, async (request) => {
      const user = await auth.me(userIdOf(request));
      return { id: user.id, object: 'user' as const, user_id: user.id, username: user.username, kind: user.kind, created_at: toSeconds(user.created_at) };
    });

    app.get('/.well-known/jwks.json', {
      schema: { tags: ['auth'], summary: 'Public keys that verify access tokens' },
    }, async (_request, reply) => {
      return reply.header('cache-control', 'public, max-age=300').send(container.keys.jwks());
    });
  };
}
