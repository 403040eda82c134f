// An upstream failure that came before the upstream accepted the work: the connection was refused, or it
// answered 429/503 (the same cases retry.ts retries). The provider cannot have started, or billed, anything,
// so a router may send the request to another provider of the model. Every other failure (a 500, a timeout,
// a reset) may come after the work began and is final. The adapters mark these where they classify them.
import { ApiError } from '../lib/errors.ts';

export class NotAcceptedError extends ApiError {
  override name = 'NotAcceptedError';

  /** The same error (status, type, message, headers) marked as "not accepted". */
  static from(error: ApiError): NotAcceptedError {
    if (error instanceof NotAcceptedError) return error;
    return new NotAcceptedError(error.status, error.type, error.message, { param: error.param, code: error.code, headers: error.headers, cause: error.cause });
  }
}

/** True when the upstream turned the request away before doing any work: safe to send elsewhere. */
export function wasNotAccepted(error: unknown): error is NotAcceptedError {
  return error instanceof NotAcceptedError;
}
