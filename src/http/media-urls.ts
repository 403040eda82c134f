// Media URLs are signed for whoever reads them, on the public base the operator set or this server's own.
import type { FastifyRequest } from 'fastify';
import type { Container } from '../container.ts';
import type { MediaUrlSigner as SignFn } from '../services/items.ts';

export function publicBase(container: Container, request: FastifyRequest): string {
  return container.config.mediaPublicUrl ?? `${request.protocol}://${request.host}`;
}

export function signerFor(container: Container, request: FastifyRequest): SignFn {
  const base = publicBase(container, request);
  return (ref) => container.mediaUrls.url(base, ref.id, ref.mime);
}
