// Serving stored images: by signed URL without a token (public /images/{id}.{ext}), or to their owner
// with a token (/v1/media/{id}). The signature is checked before anything is looked up.
import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../container.ts';
import { forbidden, notFound } from '../lib/errors.ts';
import { nowSeconds } from '../lib/time.ts';
import type { MediaService } from '../services/media.ts';
import type { MediaRow } from '../store/db/schema.ts';
import { MIME_BY_EXTENSION } from '../store/media/signing.ts';
import { userIdOf } from './authenticate.ts';
import { errors } from './schemas.ts';
import { clientHasVersion } from './conditional.ts';

const SIGNED_FILE = /^(jan_[0-9a-hjkmnp-tv-z]{26})\.(png|jpg|jpeg|webp)$/;
/** Media never changes under its id; an owner's copy may be cached privately for a day. */
const OWNER_CACHE_SECONDS = 86_400;

const REFUSALS = {
  missing: 'This image URL is not signed: use the URL Easel returned, with its exp and sig parameters.',
  expired: 'This image URL has expired: read the item or image again for a freshly signed URL.',
  invalid: 'Invalid image URL signature.',
} as const;

const SignedQuery = Type.Object(
  { exp: Type.Optional(Type.String()), sig: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

async function sendMedia(media: MediaService, request: FastifyRequest, reply: FastifyReply, row: MediaRow, cacheControl: string) {
  const etag = `"${row.sha256}"`;
  reply.header('etag', etag).header('cache-control', cacheControl).header('x-content-type-options', 'nosniff');
  if (clientHasVersion(request, etag)) return reply.code(304).send();
  const { body } = await media.open(row);
  return reply
    .type(row.mime)
    .header('content-length', row.bytes)
    .header('content-disposition', `inline; filename="${row.storage_key.split('/').pop()}"`)
    .send(body);
}

/** GET /images/{jan_id}.{ext}?exp&sig — at the top level, whatever path prefix MEDIA_PUBLIC_URL carries. */
export function signedMediaRoutes(container: Container): FastifyPluginAsyncTypebox {
  const { media, mediaUrls } = container;
  return async (app) => {
    app.get('/images/:file', {
      schema: {
        tags: ['media'],
        summary: 'An image by signed URL (no token needed while the signature is valid)',
        security: [],
        params: Type.Object({ file: Type.String({ maxLength: 200 }) }),
        querystring: SignedQuery,
        response: errors(403, 404),
      },
    }, async (request, reply) => {
      const [, id, extension] = SIGNED_FILE.exec(request.params.file) ?? [];
      const { exp, sig } = request.query;
      const verdict = id ? mediaUrls.verify(id, exp, sig) : exp && sig ? 'invalid' : 'missing';
      if (verdict !== 'ok') throw forbidden(REFUSALS[verdict]);
      const row = await media.find(id!);
      // The extension is not signed: only the image's own (jpg or jpeg for a JPEG) names it.
      if (!row || MIME_BY_EXTENSION[extension!] !== row.mime) throw notFound(`Image '${request.params.file}' not found`);
      const maxAge = Math.max(0, Number(exp) - nowSeconds());
      return sendMedia(media, request, reply, row, `private, max-age=${maxAge}`);
    });
  };
}

/** GET /v1/media/{jan_id} — the owner's image, with a token. */
export function mediaRoutes(container: Container): FastifyPluginAsyncTypebox {
  const { media } = container;
  return async (app) => {
    app.get('/media/:id', {
      schema: {
        tags: ['media'],
        summary: 'One of my images',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: errors(401, 404),
      },
    }, async (request, reply) => {
      const row = await media.own(userIdOf(request), request.params.id);
      return sendMedia(media, request, reply, row, `private, max-age=${OWNER_CACHE_SECONDS}`);
    });
  };
}
