import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';
import { errors } from './schemas.ts';

const Capability = Type.Union([Type.Literal('chat'), Type.Literal('image_generation'), Type.Literal('image_edit')]);

const Model = Type.Object({
  id: Type.String({ example: 'easel-demo-chat' }),
  object: Type.Literal('model'),
  created: Type.Integer(),
  owned_by: Type.String(),
  capabilities: Type.Array(Capability, { description: 'What the model does' }),
});

export function modelRoutes(container: Container): FastifyPluginAsyncTypebox {
  const { models } = container;
  const tags = ['models'];
  return async (app) => {
    app.get('/models', {
      schema: { tags, summary: 'List models: chat models first, then image models', response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(Model) }), ...errors(401) } },
    }, async (request) => models.list(request.log));

    // Provider model ids may hold a slash (org/model): sent encoded as %2F, they arrive decoded here.
    app.get('/models/:id', {
      schema: { tags, summary: 'Get a model', params: Type.Object({ id: Type.String({ maxLength: 256 }) }), response: { 200: Model, ...errors(401, 404) } },
    }, async (request) => models.get(request.params.id, request.log));
  };
}
