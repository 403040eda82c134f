// One error type for everything the API (or the network) can say, carrying a readable message.

export class ApiError extends Error {
  /**
   * @param {string} message readable, shown to the user as is
   * @param {{status?: number, type?: string|null, param?: string|null, code?: string|null}} [details]
   */
  constructor(message, details = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = details.status ?? 0;
    this.type = details.type ?? null;
    this.param = details.param ?? null;
    this.code = details.code ?? null;
  }
}

const FALLBACK_BY_STATUS = {
  400: 'The request was not accepted.',
  401: 'You are not signed in.',
  403: 'Access to this was refused.',
  404: 'Not found.',
  413: 'The request is too large.',
  429: 'Too many requests; please wait a moment and try again.',
  500: 'The server had a problem handling this request.',
  501: 'This feature is not enabled on this server.',
  503: 'The server is unavailable right now.',
};

/** Builds an ApiError from a failed response, preferring the API's own `error.message`. */
export async function errorFromResponse(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy page, an empty body): fall back to the status.
  }
  const error = body && typeof body === 'object' ? body.error : null;
  const message = (error && typeof error.message === 'string' && error.message) ||
    FALLBACK_BY_STATUS[response.status] || `Request failed (HTTP ${response.status}).`;
  return new ApiError(message, { status: response.status, type: error?.type, param: error?.param, code: error?.code });
}

/** The error an `{error: {...}}` object inside a stream stands for. */
export function errorFromPayload(payload) {
  const error = payload?.error ?? {};
  return new ApiError(error.message || 'The stream ended with an error.', { type: error.type, code: error.code, param: error.param });
}

/** Anything thrown by fetch & co. as something the user can read. */
export function readableError(error) {
  if (error instanceof ApiError) return error;
  if (error instanceof TypeError) return new ApiError('Could not reach the server. Check your connection and try again.');
  return new ApiError(error instanceof Error && error.message ? error.message : 'Something went wrong.');
}

export function isAbort(error) {
  return error instanceof DOMException && error.name === 'AbortError';
}
