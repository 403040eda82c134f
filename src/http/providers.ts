// GET /v1/providers: each configured provider's health as this instance sees it (circuit, requests in
// flight, async jobs running). Names and models only: base URLs and keys stay in the configuration.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';
import { errors } from './schemas.ts';

const Provider = Type.Object({
  name: Type.String({ example: 'openai' }),
  kinds: Type.Array(Type.Enum(['chat', 'image'])),
  models: Type.Array(Type.String(), { description: 'Public model ids it serves' }),
  any_model: Type.Boolean({ description: 'Takes any model name of its kinds' }),
  weight: Type.Integer(),
  state: Type.Enum(['closed', 'open', 'half_open'], { description: 'closed: healthy; open: failing, no traffic until retry_at; half_open: one trial request' }),
  consecutive_failures: Type.Integer(),
  retry_at: Type.Union([Type.Integer(), Type.Null()]),
  in_flight: Type.Integer(),
  jobs: Type.Object({ running: Type.Integer(), max_concurrency: Type.Integer() }),
});

export function providerRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/providers', {
      schema: {
        tags: ['models'],
        summary: 'Upstream providers and their health on this instance',
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(Provider) }), ...errors(401) },
      },
    }, async () => ({ object: 'list' as const, data: container.providers.map((p) => p.view()) }));
  };
}
