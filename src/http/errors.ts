// Every error leaves Easel in OpenAI's shape: {error: {message, type, param, code}}.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ErrorType } from '../lib/errors.ts';
import { setSecurityHeaders } from './security.ts';

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** "/items/0/role" → "items[0].role", OpenAI's way of naming a nested parameter. */
function paramName(instancePath: string, extra?: string): string | null {
  const segments = instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra) segments.push(extra);
  let name = '';
  for (const segment of segments) name += /^\d+$/.test(segment) ? `[${segment}]` : name ? `.${segment}` : segment;
  return name || null;
}

function validationError(errors: AjvError[], context: string | undefined): ApiError {
  // Prefer the most telling error: a wrong type or value says more than a failed union branch.
  const error = errors.find((e) => !['anyOf', 'oneOf', 'if'].includes(e.keyword)) ?? errors[0]!;
  const where = context === 'querystring' ? 'query parameter' : context === 'params' ? 'path parameter' : 'parameter';
  // The value at fault, for the errors about a value rather than a missing or unknown field.
  const param = paramName(error.instancePath);
  const label = param ? `'${param}'` : 'the request body';
  switch (error.keyword) {
    case 'required': {
      const missing = paramName(error.instancePath, String(error.params.missingProperty));
      return new ApiError(400, 'invalid_request_error', `Missing required ${where}: '${missing}'.`, { param: missing, code: 'missing_required_parameter' });
    }
    case 'additionalProperties': {
      const unknown = paramName(error.instancePath, String(error.params.additionalProperty));
      return new ApiError(400, 'invalid_request_error', `Unrecognized request argument supplied: ${unknown}`, { param: unknown, code: 'unknown_parameter' });
    }
    case 'type':
      return new ApiError(400, 'invalid_request_error', `Invalid type for ${label}: expected ${error.params.type}.`, { param, code: 'invalid_type' });
    case 'const':
    case 'enum': {
      // A union of literals fails once per branch: together the branches are the allowed values.
      const allowed = errors
        .filter((e) => e.instancePath === error.instancePath && (e.keyword === 'const' || e.keyword === 'enum'))
        .flatMap((e) => (e.keyword === 'enum' ? (e.params.allowedValues as unknown[]) : [e.params.allowedValue]));
      const list = allowed.map((v) => JSON.stringify(v)).join(', ');
      return new ApiError(400, 'invalid_request_error', `Invalid value for ${label}: expected one of ${list}.`, { param, code: 'invalid_value' });
    }
    default:
      return new ApiError(400, 'invalid_request_error', `Invalid value for ${label}: ${error.message ?? 'not allowed'}.`, { param, code: 'invalid_value' });
  }
}

const TYPE_BY_STATUS: Record<number, ErrorType> = {
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  429: 'rate_limit_error',
};

/** Maps anything thrown in a request to an ApiError; unknown errors become a 500 that reveals nothing. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const e = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (e.validation) return validationError(e.validation, e.validationContext);
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'invalid_request_error', 'We could not parse the JSON body of your request. Send valid JSON with Content-Type: application/json.', { code: 'invalid_json' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'invalid_request_error', 'Request body is too large.', { code: 'payload_too_large' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'invalid_request_error', 'Unsupported Content-Type; send application/json.', { code: 'unsupported_media_type' });
    case 'FST_ERR_BAD_URL':
      return new ApiError(400, 'invalid_request_error', 'The URL path is not valid: it has a malformed percent-encoding.', { code: 'invalid_url' });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError(414, 'invalid_request_error', 'A segment of the URL path is too long.', { code: 'uri_too_long' });
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    return new ApiError(status, TYPE_BY_STATUS[status] ?? 'invalid_request_error', e.message || 'Invalid request', { code: e.code?.toLowerCase() ?? null });
  }
  return new ApiError(500, 'server_error', 'The server had an error while processing your request.', { code: 'internal_error', cause: error });
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply.code(error.status).headers(error.headers).type('application/json; charset=utf-8').send(error.toBody());
}

/**
 * Fastify's `frameworkErrors`: a path the router cannot decode or a parameter over its length limit is
 * answered before any route or hook runs, so the request id and the error shape are set here.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  setSecurityHeaders(reply);
  sendError(reply, toApiError(error));
}

const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 10_000;

/**
 * Reads and discards the rest of a refused body (within bounds) before answering: answering first and
 * closing leaves a client that is still uploading with a broken pipe instead of the 413.
 */
function drainBody(request: FastifyRequest): Promise<void> {
  const raw = request.raw;
  if (raw.complete || raw.readableEnded || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', done).off('error', done).off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_MAX_BYTES) done();
    };
    const timer = setTimeout(done, DRAIN_MAX_MS);
    raw.on('data', onData).once('end', done).once('error', done).once('close', done);
    raw.resume();
  });
}

export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) request.log.error({ err: apiError.cause ?? error }, apiError.message);
    // A stream already under way cannot take a JSON error; close it instead.
    if (reply.raw.headersSent) {
      reply.raw.destroy();
      return reply;
    }
    if (apiError.status === 413) return drainBody(request).then(() => sendError(reply, apiError));
    return sendError(reply, apiError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new ApiError(404, 'not_found_error', `Unknown route: ${request.method} ${request.url.split('?')[0]}`, { code: 'unknown_route' })),
  );
}
