// Any OpenAI-compatible chat upstream (OpenAI, vLLM, Ollama, LocalAI, …), reached with Easel's provider key.
import type { IncomingMessage } from 'node:http';
import type { ProviderEndpoint } from '../../config.ts';
import { ApiError, providerError, type ErrorType } from '../../lib/errors.ts';
import type { ModelInfo } from '../models.ts';
import { readBody, send, UpstreamTimeoutError } from '../http.ts';
import { isConnectionRefused, isRefusalStatus, UPSTREAM_RETRY, upstreamVerdict, withRetry, type RetryPolicy } from '../retry.ts';
import { NotAcceptedError } from '../not-accepted.ts';
import type { ChatCompletionBody, ChatProvider, ChatRequest, Completion } from './provider.ts';

/** Listing models should not hold /v1/models up for as long as a completion may take. */
const MODELS_TIMEOUT_MS = 10_000;

/**
 * The API base: the URL as given when it already names a version (…/v1, …/v1beta/openai),
 * otherwise with /v1 added, so `http://host:8000` and `http://host:8000/v1` mean the same and /v1 is never doubled.
 */
export function apiBase(url: string): string {
  const parsed = new URL(url);
  const path = parsed.pathname.replace(/\/+$/, '');
  parsed.pathname = /(^|\/)v\d+[a-z0-9]*(\/|$)/i.test(path) ? path : `${path}/v1`;
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString().replace(/\/+$/, '');
}

const TYPE_BY_STATUS: Record<number, ErrorType> = { 404: 'not_found_error', 409: 'conflict_error', 429: 'rate_limit_error' };

/** Refused connections and 429/503 answers are tried again (see retry.ts); anything else is final. */
const judge = upstreamVerdict((response: IncomingMessage) => ({ status: response.statusCode!, retryAfter: response.headers['retry-after'] }));

export class OpenAICompatibleChat implements ChatProvider {
  private readonly completionsUrl: URL;
  private readonly modelsUrl: URL;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly modelsTtlMs: number;
  private readonly retry: RetryPolicy;
  private models: { list: ModelInfo[]; expires: number } | undefined;
  private modelsInFlight: Promise<ModelInfo[]> | undefined;

  constructor(endpoint: ProviderEndpoint, modelsCacheTtlSeconds: number, retry: RetryPolicy = UPSTREAM_RETRY) {
    const base = apiBase(endpoint.url);
    this.completionsUrl = new URL(`${base}/chat/completions`);
    this.modelsUrl = new URL(`${base}/models`);
    this.apiKey = endpoint.apiKey;
    this.timeoutMs = endpoint.timeoutMs;
    this.modelsTtlMs = modelsCacheTtlSeconds * 1000;
    this.retry = retry;
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<Completion> {
    const response = await this.post(request, 'application/json', signal);
    const bytes = await this.read(response);
    if (response.statusCode! >= 300) throw this.statusError(response, bytes);
    let body: ChatCompletionBody;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw providerError('The chat provider sent a response that is not JSON.', error);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw providerError('The chat provider sent an unexpected response.');
    return { body, bytes };
  }

  async stream(request: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const response = await this.post(request, 'text/event-stream', signal);
    if (response.statusCode! >= 300) throw this.statusError(response, await this.read(response));
    if (!String(response.headers['content-type']).startsWith('text/event-stream')) {
      response.resume();
      throw providerError(`The chat provider did not stream its reply (content-type ${response.headers['content-type'] ?? 'none'}).`);
    }
    return response;
  }

  async listModels(): Promise<ModelInfo[]> {
    if (this.models && Date.now() < this.models.expires) return this.models.list;
    // Concurrent callers share one upstream request.
    this.modelsInFlight ??= this.fetchModels().finally(() => (this.modelsInFlight = undefined));
    try {
      const list = await this.modelsInFlight;
      this.models = { list, expires: Date.now() + this.modelsTtlMs };
      return list;
    } catch (error) {
      // The last good list beats none while the upstream is briefly away.
      if (this.models) return this.models.list;
      throw error;
    }
  }

  private async fetchModels(): Promise<ModelInfo[]> {
    const response = await this.call(() => send({ method: 'GET', url: this.modelsUrl, headers: this.headers('application/json'), idleTimeoutMs: Math.min(this.timeoutMs, MODELS_TIMEOUT_MS), resendIfStale: true }), undefined);
    const bytes = await this.read(response);
    if (response.statusCode! >= 300) throw this.statusError(response, bytes);
    let data: unknown;
    try {
      data = (JSON.parse(bytes.toString('utf8')) as { data?: unknown }).data;
    } catch (error) {
      throw providerError('The chat provider sent a model list that is not JSON.', error);
    }
    if (!Array.isArray(data)) throw providerError('The chat provider sent an unexpected model list.');
    return data
      .filter((m): m is { id: string; created?: unknown; owned_by?: unknown } => typeof m?.id === 'string')
      .map((m) => ({
        id: m.id,
        object: 'model' as const,
        created: typeof m.created === 'number' ? m.created : 0,
        owned_by: typeof m.owned_by === 'string' ? m.owned_by : 'provider',
        capabilities: ['chat' as const],
      }));
  }

  private post(request: ChatRequest, accept: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const headers = { ...this.headers(accept), 'content-type': 'application/json' };
    // A chat call costs little next to an image, and a kept-alive connection the provider closed while idle
    // is far likelier than a crash mid-call: send it again (Node's usual stale-socket rule). Images never are.
    return this.call(() => send({ method: 'POST', url: this.completionsUrl, headers, body: request.json(), idleTimeoutMs: this.timeoutMs, signal, resendIfStale: true }), signal);
  }

  /** Only Easel's provider key goes upstream; the caller's own token never does. */
  private headers(accept: string): Record<string, string> {
    const headers: Record<string, string> = { accept };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    return headers;
  }

  /** One exchange, tried again only when the upstream cannot have started on it. */
  private async call(request: () => Promise<IncomingMessage>, signal: AbortSignal | undefined): Promise<IncomingMessage> {
    try {
      return await withRetry(request, judge, { policy: this.retry, signal, discard: (response) => response.resume() });
    } catch (error) {
      // Refused: the request never reached the upstream, so a router may send it to another provider.
      throw isConnectionRefused(error) ? NotAcceptedError.from(this.transportError(error)) : this.transportError(error);
    }
  }

  private async read(response: IncomingMessage): Promise<Buffer> {
    try {
      return await readBody(response);
    } catch (error) {
      throw this.transportError(error);
    }
  }

  private transportError(error: unknown): ApiError {
    if (error instanceof ApiError) return error;
    if (error instanceof UpstreamTimeoutError) return providerError('The chat provider did not respond in time.', error);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH') {
      return providerError('The chat provider could not be reached.', error);
    }
    return providerError('The chat provider failed to answer.', error);
  }

  /**
   * A 4xx is about the request (bad parameter, unknown model, rate limit): the client gets the same status and
   * the upstream's message. A 401/403 means Easel's own key was refused, which is no fault of the caller's
   * token, so it is a provider error like any 5xx. Messages never carry the key.
   */
  private statusError(response: IncomingMessage, bytes: Buffer): ApiError {
    const error = this.statusErrorOf(response, bytes);
    // 429/503: the upstream turned the request away before doing any work (see not-accepted.ts).
    return isRefusalStatus(response.statusCode!) ? NotAcceptedError.from(error) : error;
  }

  private statusErrorOf(response: IncomingMessage, bytes: Buffer): ApiError {
    const status = response.statusCode!;
    const upstream = parseError(bytes);
    const message = this.redact(upstream.message ?? `HTTP ${status}`);
    if (status === 401 || status === 403) {
      return providerError('The chat provider refused Easel\'s credentials.', new Error(`upstream ${status}: ${message}`));
    }
    if (status < 400 || status >= 500) {
      return providerError(`The chat provider failed (HTTP ${status}).`, new Error(`upstream ${status}: ${message.slice(0, 500)}`));
    }
    const retryAfter = response.headers['retry-after'];
    return new ApiError(status, TYPE_BY_STATUS[status] ?? 'invalid_request_error', message, {
      param: upstream.param,
      code: upstream.code,
      headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : {},
    });
  }

  private redact(text: string): string {
    return this.apiKey ? text.replaceAll(this.apiKey, '[redacted]') : text;
  }
}

/** OpenAI's `{error: {message, param, code}}`, and the shapes other servers use (`{error: "…"}`, `{detail}`, `{message}`). */
function parseError(bytes: Buffer): { message?: string; param: string | null; code: string | null } {
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    const text = bytes.toString('utf8').trim();
    return { message: text ? text.slice(0, 1000) : undefined, param: null, code: null };
  }
  const b = body as { error?: unknown; detail?: unknown; message?: unknown };
  const error = typeof b?.error === 'object' && b.error !== null ? (b.error as { message?: unknown; param?: unknown; code?: unknown }) : undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const message = text(error?.message) ?? text(b?.error) ?? text(b?.message) ?? (b?.detail !== undefined ? (text(b.detail) ?? JSON.stringify(b.detail)) : undefined);
  return { message, param: text(error?.param) ?? null, code: text(error?.code) ?? (typeof error?.code === 'number' ? String(error.code) : null) };
}
