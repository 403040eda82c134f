// GET /v1/usage: the caller's own usage, totals, per model and per day.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';
import { DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS } from '../services/usage.ts';
import { userIdOf } from './authenticate.ts';
import { errors } from './schemas.ts';

const figures = {
  images: Type.Integer({ description: 'Images generated or edited', example: 3 }),
  images_by_size: Type.Record(Type.String(), Type.Integer(), { example: { '1024x1024': 2, '512x512': 1 } }),
  chat_completions: Type.Integer({ description: 'Chat completions answered', example: 4 }),
  prompt_tokens: Type.Integer({ example: 812 }),
  completion_tokens: Type.Integer({ example: 1290 }),
  total_tokens: Type.Integer({ example: 2102 }),
};

const Day = Type.String({ format: 'date', description: 'UTC day, YYYY-MM-DD', example: '2025-01-31' });

const UsageReport = Type.Object({
  object: Type.Literal('usage'),
  start_date: Day,
  end_date: Day,
  totals: Type.Object(figures),
  by_model: Type.Array(Type.Object({ model: Type.String({ example: 'gpt-image-1' }), ...figures })),
  data: Type.Array(Type.Object({ date: Day, ...figures }), { description: 'Days with any usage, oldest first' }),
});

const UsageQuery = Type.Object(
  {
    start_date: Type.Optional(Type.String({ format: 'date', description: `First UTC day (default: ${DEFAULT_RANGE_DAYS - 1} days before end_date)` })),
    end_date: Type.Optional(Type.String({ format: 'date', description: 'Last UTC day, inclusive (default: today)' })),
  },
  { additionalProperties: false },
);

export function usageRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/usage', {
      schema: {
        tags: ['usage'],
        summary: 'My usage: images by size and chat tokens, in total, per model and per day',
        description: `A range spans at most ${MAX_RANGE_DAYS} days.`,
        querystring: UsageQuery,
        response: { 200: UsageReport, ...errors(400, 401) },
      },
    }, async (request) => container.usage.report(userIdOf(request), request.query));
  };
}
