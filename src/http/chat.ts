import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Container } from '../container.ts';
import type { ChatCompletionInput } from '../services/chat.ts';
import { userIdOf } from './authenticate.ts';
import { toApiError } from './errors.ts';
import { errors } from './schemas.ts';

// Only what Easel itself needs is checked; every other OpenAI parameter (tools, response_format,
// temperature, …) passes through to the provider untouched, so the schema stays open.
const ConversationId = Type.String({ minLength: 1, maxLength: 100, example: 'conv_01jg8x0v9q4m6t2w7k3c5r8b1d' });
const ChatCompletionBody = Type.Object(
  {
    messages: Type.Array(Type.Object({ role: Type.String({ minLength: 1 }) }, { additionalProperties: true }), { minItems: 1 }),
    model: Type.Optional(Type.String({ minLength: 1 })),
    stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    conversation: Type.Optional(Type.Union([ConversationId, Type.Object({ id: ConversationId }, { additionalProperties: false })], {
      description: 'Easel: a conversation whose history is sent first and to which the turn is saved',
    })),
    store: Type.Optional(Type.Boolean({ description: 'Easel: save the turn to the conversation (default true)' })),
  },
  { additionalProperties: true },
);

export function chatRoutes(container: Container): FastifyPluginAsyncTypebox {
  const { chat } = container;
  return async (app) => {
    // The body exactly as sent, so a request Easel does not change is forwarded without re-serialising.
    const rawBodies = new WeakMap<FastifyRequest, string>();
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      rawBodies.set(request, body as string);
      parseJson(request, body as string, done);
    });

    app.post('/chat/completions', {
      schema: {
        tags: ['chat'],
        summary: 'Create a chat completion (OpenAI), optionally with a conversation\'s memory; stream: true answers with SSE',
        body: ChatCompletionBody,
        response: errors(400, 401, 404, 429, 500),
      },
      config: { rateLimitKind: 'chat', idempotent: true },
    }, async (request, reply) => {
      const userId = userIdOf(request);
      const body = request.body as ChatCompletionInput;
      const raw = rawBodies.get(request);
      if (body.stream === true) return relay(request, reply, (signal) => chat.stream(userId, body, raw, signal));
      const result = await chat.complete(userId, body, raw);
      return reply.type('application/json; charset=utf-8').send(result);
    });
  };
}

/**
 * Writes SSE chunks to the socket as they come (no buffering). The reply waits for the first chunk: errors
 * until then (the upstream refusing, or breaking before a word) are ordinary JSON errors with their status,
 * and the headers then go out in the same write as that chunk. After it, an error becomes an SSE error
 * event. A client that leaves aborts the upstream call.
 */
async function relay(request: FastifyRequest, reply: FastifyReply, start: (signal: AbortSignal) => Promise<AsyncIterable<Uint8Array>>): Promise<FastifyReply> {
  const res = reply.raw;
  const upstream = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) upstream.abort();
  };
  res.once('close', onClose);
  if (res.destroyed) upstream.abort(); // gone already, before the handler ran
  let chunks: AsyncIterator<Uint8Array>;
  let first: IteratorResult<Uint8Array>;
  try {
    chunks = (await start(upstream.signal))[Symbol.asyncIterator]();
    first = await chunks.next();
  } catch (error) {
    res.off('close', onClose);
    // The client left before the upstream answered: there is no one to tell, and it is no provider fault.
    if (upstream.signal.aborted) {
      reply.hijack();
      res.destroy();
      return reply;
    }
    throw error;
  }

  reply.hijack();
  const headers = Object.fromEntries(Object.entries(reply.getHeaders()).filter(([, v]) => v !== undefined));
  // Not flushed: Node sends the headers with the first write, as one packet with the first chunk.
  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  try {
    for (let next = first; !next.done; next = await chunks.next()) {
      // Once the client is gone, keep draining: the stream notices the abort and saves what arrived.
      if (!res.destroyed && !res.write(next.value)) await drained(res);
    }
  } catch (error) {
    const apiError = toApiError(error);
    request.log.error({ err: apiError.cause ?? error }, apiError.message);
    // A blank line first, in case the failure cut an event in half.
    if (!res.destroyed) res.write(`\n\ndata: ${JSON.stringify(apiError.toBody())}\n\n`);
  }
  res.end();
  return reply;
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
