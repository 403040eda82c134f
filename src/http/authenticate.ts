// The bearer-token check every /v1 route and /auth/me runs before anything else.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { unauthorized } from '../lib/errors.ts';
import type { AuthService, Principal } from '../services/auth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The caller, for handlers behind the hook. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}

export function userIdOf(request: FastifyRequest): string {
  return principalOf(request).userId;
}

export function authenticateWith(auth: AuthService) {
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw unauthorized('Missing bearer token: send Authorization: Bearer <token>');
    request.principal = await auth.authenticate(match[1]!);
  };
}
