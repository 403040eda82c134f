// POST /v1/images/generations and /v1/images/edits: OpenAI's request shapes plus the guide's
// conversation_id and store. Validation is the schemas below; the handlers only pick the service call.
import { Type, type Static, type TSchema } from 'typebox';
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';
import { userIdOf } from './authenticate.ts';
import { signerFor } from './media-urls.ts';
import { errors } from './schemas.ts';
import { validatorCompiler } from './validation.ts';
import { sendEventStream } from './image-stream.ts';
import { ImageRefs, MaskRef, MAX_EDIT_IMAGES, readImageForm, sourcesFromJson, sourcesFromUploads, Upload, type ImageRef } from './image-inputs.ts';
import type { ImageParams } from '../services/images.ts';
import { ImageJobAccepted, prefersAsync, submitImageJob } from './image-jobs.ts';

/** OpenAI accepts null for its optional parameters, meaning "not given". */
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const SIZES = ['512x512', '1024x1024', '1792x1024', '1024x1792'] as const;

/** The fields generations and edits share: the guide's, then OpenAI's other image parameters. */
const shared = {
  prompt: Type.String({ minLength: 1, maxLength: 32_000, description: 'Text description of the image' }),
  model: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 256, description: 'Optional model override' }))),
  n: Type.Integer({ minimum: 1, maximum: 10, default: 1, description: 'Number of images (1-10)' }),
  response_format: Type.Enum(['url', 'b64_json'], { default: 'url' }),
  conversation_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Link to one of your conversations' })),
  store: Type.Boolean({ default: true, description: 'Save the prompt and result to the conversation' }),
  stream: Type.Optional(nullable(Type.Boolean({ description: 'Server-sent events with partial images (n must be 1)' }))),
  partial_images: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 3 }))),
  quality: Type.Optional(nullable(Type.Enum(['auto', 'low', 'medium', 'high', 'xhigh', 'max', 'standard', 'hd']))),
  background: Type.Optional(nullable(Type.Enum(['transparent', 'opaque', 'auto']))),
  output_format: Type.Optional(nullable(Type.Enum(['png', 'jpeg', 'webp']))),
  output_compression: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 100 }))),
  moderation: Type.Optional(nullable(Type.Enum(['low', 'auto']))),
  user: Type.Optional(Type.String({ maxLength: 256 })),
  safety_identifier: Type.Optional(nullable(Type.String({ maxLength: 256 }))),
};

const GenerationBody = Type.Object(
  {
    ...shared,
    size: Type.Enum(SIZES, { default: '1024x1024' }),
    style: Type.Optional(nullable(Type.Enum(['vivid', 'natural']))),
  },
  { additionalProperties: false },
);

const editFields = {
  ...shared,
  size: Type.Enum([...SIZES, 'auto'], { default: 'auto', description: 'auto keeps the input image size' }),
  input_fidelity: Type.Optional(nullable(Type.Enum(['high', 'low']))),
};

const EditJsonBody = Type.Object(
  { ...editFields, image: ImageRefs, mask: Type.Optional(MaskRef) },
  { additionalProperties: false },
);

const EditFormBody = Type.Object(
  {
    ...editFields,
    image: Type.Array(Upload, { minItems: 1, maxItems: MAX_EDIT_IMAGES, description: 'Field `image` (one file) or `image[]` (several)' }),
    mask: Type.Optional(Upload),
  },
  { additionalProperties: false },
);

const ImageData = Type.Object({
  id: Type.String({ example: 'jan_01jg8x0v9q4m6t2w7k3c5r8b1d' }),
  url: Type.Optional(Type.String()),
  b64_json: Type.Optional(Type.String()),
  revised_prompt: Type.Optional(Type.String()),
});

const ImagesResponse = Type.Object(
  {
    created: Type.Integer(),
    data: Type.Array(ImageData),
    size: Type.Optional(Type.String()),
    output_format: Type.Optional(Type.String()),
    quality: Type.Optional(Type.String()),
    background: Type.Optional(Type.String()),
    usage: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { description: 'The images (or, with stream: true, text/event-stream of image events)' },
);

type EditJson = Static<typeof EditJsonBody>;
type EditForm = Static<typeof EditFormBody>;

/** A body-less POST (no Content-Type) still has to pass the JSON rules; Fastify skips per-type schemas for it. */
const validateEditJson = validatorCompiler({ schema: EditJsonBody, method: 'POST', url: '/v1/images/edits', httpPart: 'body' });

export function imageRoutes(container: Container): FastifyPluginAsyncTypebox {
  const { images } = container;
  const tags = ['images'];
  const limits = images.editLimits;
  return async (app) => {
    // Multipart only here: limits are set per request as the form streams in (readImageForm).
    await app.register(multipart);

    app.post('/images/generations', {
      schema: {
        tags,
        summary: 'Generate images from a prompt (with Prefer: respond-async, a job to read later)',
        body: GenerationBody,
        response: { 200: ImagesResponse, 202: ImageJobAccepted, ...errors(400, 401, 404, 429, 500, 501) },
      },
      config: { rateLimitKind: 'images', idempotent: true },
    }, async (request, reply) => {
      const params = request.body as ImageParams;
      if (prefersAsync(request)) return submitImageJob(container, request, reply, params);
      const sign = signerFor(container, request);
      if (params.stream) return sendEventStream(request, reply, await images.stream(userIdOf(request), params, undefined, sign));
      return images.generate(userIdOf(request), params, sign);
    });

    app.post('/images/edits', {
      schema: {
        tags,
        summary: 'Edit images with a prompt (multipart/form-data as OpenAI, or JSON with image references)',
        body: {
          content: {
            'application/json': { schema: EditJsonBody },
            'multipart/form-data': { schema: EditFormBody },
          },
        },
        response: { 200: ImagesResponse, ...errors(400, 401, 404, 413, 429, 500, 501) },
      },
      config: { rateLimitKind: 'images', idempotent: true },
      // Base64 is 4/3 of the bytes: room for the largest allowed set of images in a JSON body.
      bodyLimit: Math.ceil((limits.withMask * 4) / 3) + 1024 * 1024,
      preValidation: async (request: FastifyRequest) => {
        if (request.isMultipart()) {
          request.body = await readImageForm(request, EditFormBody, { maxFileBytes: limits.perImage, maxTotalBytes: limits.withMask });
        } else if (request.mediaType === undefined && !validateEditJson(request.body)) {
          throw Object.assign(new Error('invalid body'), { validation: validateEditJson.errors, validationContext: 'body' });
        }
      },
    }, async (request, reply) => {
      const body = request.body as EditJson | EditForm;
      const sources = request.isMultipart()
        ? sourcesFromUploads((body as EditForm).image, (body as EditForm).mask)
        : sourcesFromJson((body as EditJson).image as ImageRef | ImageRef[], (body as EditJson).mask);
      const params = body as unknown as ImageParams;
      const sign = signerFor(container, request);
      if (params.stream) return sendEventStream(request, reply, await images.stream(userIdOf(request), params, sources, sign));
      return images.edit(userIdOf(request), params, sources, sign);
    });
  };
}
