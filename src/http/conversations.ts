import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';
import { userIdOf } from './authenticate.ts';
import { signerFor } from './media-urls.ts';
import { errors, IncludeQuery, inputItems, Item, ItemList, ListQuery, Metadata } from './schemas.ts';

const Conversation = Type.Object({
  id: Type.String({ example: 'conv_01jg8x0v9q4m6t2w7k3c5r8b1d' }),
  object: Type.Literal('conversation'),
  title: Type.Union([Type.String(), Type.Null()]),
  metadata: Metadata,
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});

const Title = Type.Union([Type.String({ maxLength: 512 }), Type.Null()]);

const CreateBody = Type.Object(
  { title: Type.Optional(Title), metadata: Type.Optional(Metadata), items: Type.Optional(inputItems(0)) },
  { additionalProperties: false },
);
const UpdateBody = Type.Object({ title: Type.Optional(Title), metadata: Type.Optional(Metadata) }, { additionalProperties: false });
const ConversationParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
const ItemParams = Type.Object({ id: Type.String({ maxLength: 100 }), item_id: Type.String({ maxLength: 100 }) });

export function conversationRoutes(container: Container): FastifyPluginAsyncTypebox {
  const { conversations } = container;
  const tags = ['conversations'];
  return async (app) => {
    app.post('/conversations', {
      schema: { tags, summary: 'Create a conversation', body: CreateBody, response: { 200: Conversation, ...errors(400, 401) } },
    }, async (request) => conversations.create(userIdOf(request), request.body));

    app.get('/conversations', {
      schema: {
        tags,
        summary: 'List my conversations, most recently updated first',
        querystring: ListQuery,
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(Conversation), first_id: Type.Union([Type.String(), Type.Null()]), last_id: Type.Union([Type.String(), Type.Null()]), has_more: Type.Boolean() }), ...errors(400, 401) },
      },
    }, async (request) => conversations.list(userIdOf(request), request.query));

    app.get('/conversations/:id', {
      schema: { tags, summary: 'Get a conversation', params: ConversationParams, response: { 200: Conversation, ...errors(401, 404) } },
    }, async (request) => conversations.get(userIdOf(request), request.params.id));

    app.post('/conversations/:id', {
      schema: { tags, summary: 'Update a conversation', params: ConversationParams, body: UpdateBody, response: { 200: Conversation, ...errors(400, 401, 404) } },
    }, async (request) => conversations.update(userIdOf(request), request.params.id, request.body));

    app.delete('/conversations/:id', {
      schema: {
        tags,
        summary: 'Delete a conversation and its items',
        params: ConversationParams,
        response: { 200: Type.Object({ id: Type.String(), object: Type.Literal('conversation.deleted'), deleted: Type.Literal(true) }), ...errors(401, 404) },
      },
    }, async (request) => conversations.delete(userIdOf(request), request.params.id));

    app.get('/conversations/:id/items', {
      schema: { tags, summary: 'List items of a conversation', params: ConversationParams, querystring: ListQuery, response: { 200: ItemList, ...errors(400, 401, 404) } },
    }, async (request) => conversations.listItems(userIdOf(request), request.params.id, request.query, signerFor(container, request)));

    app.post('/conversations/:id/items', {
      schema: {
        tags,
        summary: 'Add up to 20 items',
        params: ConversationParams,
        querystring: IncludeQuery,
        body: Type.Object({ items: inputItems(1) }, { additionalProperties: false }),
        response: { 200: ItemList, ...errors(400, 401, 404) },
      },
    }, async (request) => conversations.addItems(userIdOf(request), request.params.id, request.body.items, signerFor(container, request)));

    app.get('/conversations/:id/items/:item_id', {
      schema: { tags, summary: 'Get an item', params: ItemParams, querystring: IncludeQuery, response: { 200: Item, ...errors(401, 404) } },
    }, async (request) => conversations.getItem(userIdOf(request), request.params.id, request.params.item_id, signerFor(container, request)));

    app.delete('/conversations/:id/items/:item_id', {
      schema: { tags, summary: 'Delete an item; returns the conversation', params: ItemParams, response: { 200: Conversation, ...errors(401, 404) } },
    }, async (request) => conversations.deleteItem(userIdOf(request), request.params.id, request.params.item_id));
  };
}
