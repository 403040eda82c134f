// Streams image events as server-sent events, OpenAI's way: `event: <type>` and `data: <json>`.
// The first event is awaited before any header goes out, so a request that fails early (provider down)
// still gets an ordinary JSON error; a failure later becomes an `error` event the SDK raises.
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toApiError } from './errors.ts';

function frame(event: { type: string }): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export async function sendEventStream(request: FastifyRequest, reply: FastifyReply, events: AsyncIterable<{ type: string }>): Promise<FastifyReply> {
  const iterator = events[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* frames(): AsyncIterable<string> {
    try {
      for (let next = first; !next.done; next = await iterator.next()) yield frame(next.value);
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.status >= 500) request.log.error({ err: apiError.cause ?? error }, apiError.message);
      yield `event: error\ndata: ${JSON.stringify(apiError.toBody())}\n\n`;
    } finally {
      // The client went away (or all is sent): let the provider stop too.
      await iterator.return?.();
    }
  }
  return reply
    .code(200)
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-accel-buffering', 'no')
    .send(Readable.from(frames(), { objectMode: false }));
}
