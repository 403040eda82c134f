// Serves the browser app (src/web) at `/` and its files under `/assets/`.
// Files are read once at start into a fixed table: a request can only ever name a file that is
// in the table, so no path from the URL ever reaches the file system (no traversal possible).
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Container } from '../container.ts';
import { ApiError } from '../lib/errors.ts';
import { sendError } from './errors.ts';
import { clientHasVersion } from './conditional.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The browser app: dist/web beside the bundle (scripts/build.ts copies it there), or src/web from source. */
export const WEB_ROOT = fs.existsSync(path.join(HERE, 'web')) ? path.join(HERE, 'web') : path.resolve(HERE, '../web');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Every servable file under root, keyed by its URL path relative to root ("js/app.js"). */
export function loadWebFiles(root: string): Map<string, WebFile> {
  const files = new Map<string, WebFile>();
  if (!fs.existsSync(root)) return files;
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const type = CONTENT_TYPES[path.extname(entry.name).toLowerCase()];
    if (!type) continue;
    const full = path.join(entry.parentPath, entry.name);
    const body = fs.readFileSync(full);
    const key = path.relative(root, full).split(path.sep).join('/');
    files.set(key, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return files;
}

/** The page may load only its own code; images may also come from the media base (signed URLs). */
export function contentSecurityPolicy(mediaPublicUrl: string | undefined): string {
  const mediaOrigin = mediaPublicUrl ? ` ${new URL(mediaPublicUrl).origin}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob:${mediaOrigin}`,
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function webRoutes(container: Container, root = WEB_ROOT): FastifyPluginAsync {
  const files = loadWebFiles(root);
  const csp = contentSecurityPolicy(container.config.mediaPublicUrl);

  function send(request: FastifyRequest, reply: FastifyReply, key: string): FastifyReply {
    const file = files.get(key);
    if (!file) {
      return sendError(reply, new ApiError(404, 'not_found_error', `Unknown route: ${request.method} ${request.url.split('?')[0]}`, { code: 'unknown_route' }));
    }
    // No fingerprinted names, so the browser revalidates every time; an unchanged file costs a 304.
    // nosniff, referrer-policy and frame denial come from security.ts; the page's own policy is set here.
    reply.header('content-security-policy', csp).header('cache-control', 'no-cache').header('etag', file.etag);
    if (clientHasVersion(request, file.etag)) return reply.code(304).send();
    return reply.type(file.type).send(file.body);
  }

  return async (app) => {
    app.get('/', { schema: { hide: true }, logLevel: 'warn' }, async (request, reply) => send(request, reply, 'index.html'));
    app.get('/assets/*', { schema: { hide: true }, logLevel: 'warn' }, async (request, reply) => {
      const key = (request.params as { '*': string })['*'];
      return send(request, reply, key);
    });
  };
}
