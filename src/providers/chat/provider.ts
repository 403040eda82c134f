// The one interface every chat upstream sits behind: OpenAI's chat completions, as JSON or as SSE bytes.
import type { ModelSource } from '../models.ts';

/** An OpenAI chat message as it goes upstream; only role is relied on, the rest passes through. */
export interface ChatMessage {
  role: string;
  content?: unknown;
  [field: string]: unknown;
}

/** OpenAI's chat completion request, Easel's own fields already removed. */
export interface ChatParams {
  messages: ChatMessage[];
  model?: string;
  stream?: boolean | null;
  [field: string]: unknown;
}

/**
 * What goes upstream. `json()` is the body on the wire: the client's own bytes when Easel changed
 * nothing, so the common request is forwarded without being serialised a second time.
 */
export class ChatRequest {
  readonly params: ChatParams;
  private readonly raw: string | undefined;

  constructor(params: ChatParams, raw?: string) {
    this.params = params;
    this.raw = raw;
  }

  json(): string {
    return this.raw ?? JSON.stringify(this.params);
  }
}

/** A finished (non-stream) completion: the parsed body, and its bytes as received when there are any. */
export interface Completion {
  body: ChatCompletionBody;
  bytes?: Buffer;
}

export interface ChatCompletionBody {
  choices?: Array<{ index?: number; message?: { content?: unknown } }>;
  [field: string]: unknown;
}

export interface ChatProvider extends ModelSource {
  /** Throws ApiError: a 4xx the upstream gave, or 500 provider_error. */
  complete(request: ChatRequest, signal?: AbortSignal): Promise<Completion>;
  /**
   * Resolves once the upstream has accepted the request, with its SSE bytes as they arrive; throws
   * ApiError like complete() before that. Iteration throws when the stream breaks or `signal` aborts.
   */
  stream(request: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
}
