// Async image generations. `POST /v1/images/generations` with `Prefer: respond-async` (RFC 7240) answers
// 202 with a queued job (the body field `background` is OpenAI's transparency setting, so the choice rides
// on the header); `GET /v1/images/jobs/{id}` reports it, with the images once it succeeded.
import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';
import { badRequest } from '../lib/errors.ts';
import type { ImageParams } from '../services/images.ts';
import { userIdOf } from './authenticate.ts';
import { signerFor } from './media-urls.ts';
import { errors } from './schemas.ts';

const JobStatus = Type.Enum(['queued', 'running', 'succeeded', 'failed']);

export const ImageJobAccepted = Type.Object(
  {
    id: Type.String({ example: 'imgjob_01jg8x0v9q4m6t2w7k3c5r8b1d' }),
    object: Type.Literal('image.job'),
    status: JobStatus,
    created_at: Type.Integer(),
  },
  { description: 'With `Prefer: respond-async`: the queued job (see GET /v1/images/jobs/{id})' },
);

const ImageJob = Type.Object(
  {
    id: Type.String({ example: 'imgjob_01jg8x0v9q4m6t2w7k3c5r8b1d' }),
    object: Type.Literal('image.job'),
    status: JobStatus,
    created_at: Type.Integer(),
    started_at: Type.Optional(Type.Integer()),
    completed_at: Type.Optional(Type.Integer()),
    model: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    conversation_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    created: Type.Optional(Type.Integer()),
    data: Type.Optional(
      Type.Array(
        Type.Object({
          id: Type.String(),
          url: Type.Optional(Type.String()),
          b64_json: Type.Optional(Type.String()),
          revised_prompt: Type.Optional(Type.String()),
        }),
      ),
    ),
    size: Type.Optional(Type.String()),
    output_format: Type.Optional(Type.String()),
    quality: Type.Optional(Type.String()),
    background: Type.Optional(Type.String()),
    usage: Type.Optional(Type.Object({}, { additionalProperties: true })),
    error: Type.Optional(
      Type.Object({
        message: Type.String(),
        type: Type.String(),
        param: Type.Union([Type.String(), Type.Null()]),
        code: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
  },
  { description: 'A job: once succeeded, the synchronous answer\'s fields (URLs signed now); once failed, the error' },
);

/** Whether the client asked for an asynchronous answer (`Prefer: respond-async`, among other preferences). */
export function prefersAsync(request: FastifyRequest): boolean {
  const header = request.headers.prefer;
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return values.some((value) => value.split(',').some((preference) => preference.split(/[;=]/)[0]!.trim().toLowerCase() === 'respond-async'));
}

/** Queues the generation and answers 202 with the job and where to read it. */
export async function submitImageJob(container: Container, request: FastifyRequest, reply: FastifyReply, params: ImageParams) {
  if (params.stream) throw badRequest('stream: true cannot be combined with Prefer: respond-async; send one or the other.', 'stream', 'invalid_value');
  const job = await container.imageJobs.submit(userIdOf(request), params);
  return reply.code(202).header('preference-applied', 'respond-async').header('location', `/v1/images/jobs/${job.id}`).send(job);
}

export function imageJobRoutes(container: Container): FastifyPluginAsyncTypebox {
  const { imageJobs } = container;
  return async (app) => {
    app.get('/images/jobs/:id', {
      schema: {
        tags: ['images'],
        summary: 'Get an async image job (from POST /v1/images/generations with Prefer: respond-async)',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: { 200: ImageJob, ...errors(401, 404) },
      },
    }, async (request) => imageJobs.get(userIdOf(request), request.params.id, signerFor(container, request)));
  };
}
