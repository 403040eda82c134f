// Conditional GETs: whether the client already holds the version an ETag names.
import type { FastifyRequest } from 'fastify';

/** True when If-None-Match names this ETag (weak or strong) or is `*`. */
export function clientHasVersion(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}
