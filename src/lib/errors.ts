// The one error type services throw; http/errors.ts turns it into OpenAI's error shape.
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'provider_error'
  | 'server_error'
  | 'not_implemented_error';

export interface ErrorBody {
  error: { message: string; type: ErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    type: ErrorType,
    message: string,
    options: { param?: string | null; code?: string | null; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = status;
    this.type = type;
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new ApiError(400, 'invalid_request_error', message, { param, code });

export const unauthorized = (message = 'Missing or invalid bearer token') =>
  new ApiError(401, 'authentication_error', message, { code: 'invalid_token' });

export const forbidden = (message: string) => new ApiError(403, 'permission_error', message, { code: 'forbidden' });

export const notFound = (message: string, param: string | null = null) =>
  new ApiError(404, 'not_found_error', message, { param, code: 'not_found' });

export const conflict = (message: string, param: string | null = null) =>
  new ApiError(409, 'conflict_error', message, { param, code: 'conflict' });

export const payloadTooLarge = (message: string, param: string | null = null) =>
  new ApiError(413, 'invalid_request_error', message, { param, code: 'payload_too_large' });

export const providerError = (message: string, cause?: unknown) =>
  new ApiError(500, 'provider_error', message, { code: 'provider_error', cause });

export const notImplemented = (message: string) =>
  new ApiError(501, 'not_implemented_error', message, { code: 'feature_disabled' });
