// Any OpenAI-compatible image server (OpenAI, LocalAI, stable-diffusion front ends, …). It may answer with
// base64 (gpt-image style) or with short-lived URLs (dall-e style), which are downloaded at once. Every
// failure becomes a provider_error whose message says what went wrong and never carries the API key.
// Calls go over node:http (kept-alive connections, no WHATWG streams per chunk, no 300 s header limit).
import type { IncomingMessage } from 'node:http';
import { ApiError, providerError } from '../../lib/errors.ts';
import { Semaphore } from '../../lib/semaphore.ts';
import type { ProviderEndpoint } from '../../config.ts';
import type { ModelInfo } from '../models.ts';
import { EXTENSIONS } from '../../store/media/signing.ts';
import { isConnectionRefused, isRefusalStatus, UPSTREAM_RETRY, upstreamVerdict, withRetry, type RetryPolicy } from '../retry.ts';
import { NotAcceptedError } from '../not-accepted.ts';
import { Deadline } from './deadline.ts';
import { chunksOf, readSse } from './sse.ts';
import { ImagesAnswerReader } from './answer.ts';
import { decodeBase64, releaseChunk } from './base64.ts';
import { send, UpstreamTimeoutError } from '../http.ts';
import type {
  EditRequest,
  GenerateRequest,
  GeneratedImage,
  ImageBatch,
  ImageJob,
  ImageOptions,
  ImageProvider,
  ImageStreamEvent,
  ImageUsage,
} from './provider.ts';

/** The model used when the caller names none and the provider does not say which it used. */
export const UPSTREAM_DEFAULT_MODEL = 'default';
const MODELS_TIMEOUT_MS = 10_000;
const ERROR_BODY_LIMIT = 16 * 1024;
/**
 * Answers read and decoded at once, per provider. An answer waiting for a slot stays in the socket (TCP
 * pushes back), so memory holds a few megabyte-sized bodies, not one per request in flight.
 */
const ANSWERS_READ_AT_ONCE = 4;
/** Names that mark an upstream model as an image model, when the upstream also lists others. */
const IMAGE_MODEL_NAME = /image|dall-e|diffusion|sdxl|flux|kandinsky|imagen|sd-|sd3/i;

/** Refused connections and 429/503 answers are tried again (see retry.ts): image calls are billed, nothing else is. */
const judge = upstreamVerdict((res: IncomingMessage) => ({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));

/** A request body as sent: JSON text, or multipart bytes with their boundary in the content type. */
interface UpstreamBody {
  bytes: string | Buffer;
  contentType: string;
}

function bodyOf(res: IncomingMessage): BodySource {
  return { chunks: res, length: res.headers['content-length'], close: () => res.destroy() };
}

function isOk(res: IncomingMessage): boolean {
  const status = res.statusCode ?? 0;
  return status >= 200 && status < 300;
}

/** What Easel knows about well-known model families; an unknown model gets the choices that work everywhere. */
export function modelTraits(model: string | undefined): { acceptsResponseFormat: boolean; maxN: number; streams: boolean } {
  const name = (model ?? '').toLowerCase();
  return {
    // gpt-image models reject response_format and always answer base64; dall-e models take it.
    acceptsResponseFormat: name.startsWith('dall-e'),
    maxN: name.startsWith('dall-e-3') ? 1 : 10,
    streams: /^(gpt-image|chatgpt-image)/.test(name),
  };
}

/** The API root: a base given with a version segment (…/v1) is kept, one without gets /v1. */
export function apiBase(url: string): string {
  const parsed = new URL(url);
  const path = parsed.pathname.replace(/\/+$/, '');
  return `${parsed.origin}${path}${/\/v\d+[a-z0-9]*(\/|$)/i.test(path) ? '' : '/v1'}`;
}

interface UpstreamImage {
  b64_json?: unknown;
  url?: unknown;
  revised_prompt?: unknown;
}

function isUsage(value: unknown): value is ImageUsage {
  return typeof value === 'object' && value !== null && typeof (value as ImageUsage).total_tokens === 'number';
}

export class OpenAICompatibleImageProvider implements ImageProvider {
  readonly kind = 'openai-compatible' as const;
  private readonly base: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxImageBytes: number;
  private readonly modelsCacheTtlMs: number;
  private readonly retry: RetryPolicy;
  private readonly streams: (model: string | undefined) => boolean;
  private modelsCache: { models: ModelInfo[]; expires: number } | undefined;
  /** One URL object per path: the HTTP client works out a URL's request options once per object. */
  private readonly urls = new Map<string, URL>();
  private readonly answers = new Semaphore(ANSWERS_READ_AT_ONCE);

  /** `streams` says which models stream partial images (a providers file may declare it); default: by model family. */
  constructor(endpoint: ProviderEndpoint, options: { maxImageBytes: number; modelsCacheTtlSeconds: number; retry?: RetryPolicy; streams?: (model: string | undefined) => boolean }) {
    this.base = apiBase(endpoint.url);
    this.apiKey = endpoint.apiKey;
    this.timeoutMs = endpoint.timeoutMs;
    this.maxImageBytes = options.maxImageBytes;
    this.modelsCacheTtlMs = options.modelsCacheTtlSeconds * 1000;
    this.retry = options.retry ?? UPSTREAM_RETRY;
    this.streams = options.streams ?? ((model) => modelTraits(model).streams);
  }

  // ---- public operations -------------------------------------------------------------------------

  async listModels(): Promise<ModelInfo[]> {
    if (this.modelsCache && this.modelsCache.expires > Date.now()) return this.modelsCache.models;
    let listed: Array<{ id: string; created?: unknown; owned_by?: unknown }> = [];
    try {
      const res = await fetch(`${this.base}/models`, { headers: this.headers(), signal: AbortSignal.timeout(Math.min(this.timeoutMs, MODELS_TIMEOUT_MS)) });
      const body = res.ok ? ((await res.json()) as { data?: unknown }) : undefined;
      if (Array.isArray(body?.data)) listed = body.data.filter((m): m is { id: string } => typeof m?.id === 'string');
    } catch {
      // An unreachable image provider lists no models; /v1/models still answers with the rest.
    }
    // A dedicated image server lists only image models; a shared one (OpenAI itself) lists everything.
    const images = listed.filter((m) => IMAGE_MODEL_NAME.test(m.id));
    const models: ModelInfo[] = (images.length > 0 ? images : listed).map((m) => ({
      id: m.id,
      object: 'model',
      created: typeof m.created === 'number' ? m.created : 0,
      owned_by: typeof m.owned_by === 'string' ? m.owned_by : 'image-provider',
      capabilities: ['image_generation', 'image_edit'],
    }));
    this.modelsCache = { models, expires: Date.now() + this.modelsCacheTtlMs };
    return models;
  }

  async generate(request: GenerateRequest): Promise<ImageBatch> {
    return this.guard(async (deadline) => {
      const res = await this.post('/images/generations', this.generationBody(request, false, 0), deadline);
      return this.readBatch(res, request, deadline.signal);
    });
  }

  async edit(request: EditRequest): Promise<ImageBatch> {
    return this.guard(async (deadline) => {
      const res = await this.post('/images/edits', await this.editForm(request, false, 0), deadline);
      return this.readBatch(res, request, deadline.signal);
    });
  }

  /** Relays the upstream's own stream when the model streams; otherwise the final image alone. */
  async *stream(job: ImageJob, partialImages: number): AsyncIterable<ImageStreamEvent> {
    const request = { ...job.request, n: 1 };
    const streams = this.streams(request.model);
    const cancel = new AbortController();
    const deadline = new Deadline(this.timeoutMs, cancel.signal);
    const signal = deadline.signal;
    try {
      const body = job.operation === 'generate'
        ? this.generationBody(request, streams, partialImages)
        : await this.editForm({ ...(request as EditRequest) }, streams, partialImages);
      const res = await this.post(job.operation === 'generate' ? '/images/generations' : '/images/edits', body, deadline);
      if (!(res.headers['content-type'] ?? '').includes('text/event-stream')) {
        const batch = await this.readBatch(res, request, signal);
        yield { type: 'completed', image: batch.images[0]!, model: batch.model, usage: batch.usage };
        return;
      }
      let partials = 0;
      for await (const message of readSse(res)) {
        if (message.data === '[DONE]') continue;
        let event: Record<string, unknown>;
        try {
          event = JSON.parse(message.data) as Record<string, unknown>;
        } catch {
          throw providerError('Image provider sent a stream event that is not JSON');
        }
        if (message.event === 'error' || event.error) throw providerError(`Image provider stream failed: ${this.detailOf(event) || 'unknown error'}`);
        const type = String(event.type ?? message.event ?? '');
        if (typeof event.b64_json !== 'string') continue;
        if (type.endsWith('.partial_image')) {
          const index = typeof event.partial_image_index === 'number' ? event.partial_image_index : partials;
          partials++;
          yield { type: 'partial', index, bytes: this.checkSize(decodeBase64(event.b64_json, 'a partial image')) };
        } else if (type.endsWith('.completed')) {
          const image = { bytes: this.checkSize(decodeBase64(event.b64_json, 'an image')) };
          yield { type: 'completed', image, model: request.model ?? this.modelOf(event), usage: isUsage(event.usage) ? event.usage : undefined };
          return;
        }
      }
      throw providerError('Image provider ended its stream before the image was complete');
    } catch (error) {
      throw this.failure(error, deadline);
    } finally {
      deadline.disarm();
      // Stops the upstream when the caller stops listening (or when done: a no-op).
      cancel.abort();
    }
  }

  // ---- requests ----------------------------------------------------------------------------------

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}), ...extra };
  }

  private options(options: ImageOptions): Record<string, string | number> {
    return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined && v !== null)) as Record<string, string | number>;
  }

  private generationBody(request: GenerateRequest, stream: boolean, partialImages: number): UpstreamBody {
    const traits = modelTraits(request.model);
    const bytes = JSON.stringify({
      prompt: request.prompt,
      n: Math.min(request.n, traits.maxN),
      size: request.size,
      ...(request.model ? { model: request.model } : {}),
      // Asking for base64 spares a download, but only models known to take response_format get it.
      ...(traits.acceptsResponseFormat ? { response_format: 'b64_json' } : {}),
      ...this.options(request.options),
      ...(stream ? { stream: true, partial_images: partialImages } : {}),
    });
    return { bytes, contentType: 'application/json' };
  }

  /** The edit as multipart/form-data, encoded once so that a retry sends the same bytes. */
  private async editForm(request: EditRequest, stream: boolean, partialImages: number): Promise<UpstreamBody> {
    const traits = modelTraits(request.model);
    const form = new FormData();
    const field = request.images.length === 1 ? 'image' : 'image[]';
    request.images.forEach((image, i) => {
      form.append(field, new Blob([new Uint8Array(image.bytes)], { type: image.mime }), `image-${i + 1}.${EXTENSIONS[image.mime]}`);
    });
    if (request.mask) form.append('mask', new Blob([new Uint8Array(request.mask.bytes)], { type: request.mask.mime }), 'mask.png');
    form.append('prompt', request.prompt);
    form.append('n', String(Math.min(request.n, traits.maxN)));
    if (request.size !== 'auto') form.append('size', request.size);
    if (request.model) form.append('model', request.model);
    if (traits.acceptsResponseFormat) form.append('response_format', 'b64_json');
    for (const [key, value] of Object.entries(this.options(request.options))) form.append(key, String(value));
    if (stream) {
      form.append('stream', 'true');
      form.append('partial_images', String(partialImages));
    }
    const encoded = new Response(form);
    return { bytes: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type')! };
  }

  /** One request, tried again only when the provider cannot have started on it; each attempt gets the full timeout. */
  private async post(path: string, body: UpstreamBody, deadline: Deadline): Promise<IncomingMessage> {
    let url = this.urls.get(path);
    if (!url) this.urls.set(path, (url = new URL(`${this.base}${path}`)));
    const headers = this.headers({ 'content-type': body.contentType });
    const attempt = async () => {
      deadline.arm();
      try {
        // The deadline bounds the whole exchange; the idle timeout only backs it up.
        return await send({ method: 'POST', url, headers, body: body.bytes, idleTimeoutMs: this.timeoutMs + 1000, signal: deadline.signal });
      } catch (error) {
        deadline.disarm();
        throw error;
      }
    };
    const res = await withRetry(attempt, judge, {
      policy: this.retry,
      discard: (refused) => {
        deadline.disarm();
        refused.resume();
      },
    }).catch((error: unknown) => {
      // Refused: the request never arrived, so a router may send it to another provider. (Only here: a
      // refused download of an answer's URL comes after the work was done.)
      throw isConnectionRefused(error) ? NotAcceptedError.from(providerError('Could not reach the image provider (connection refused)', error)) : error;
    });
    if (!isOk(res)) {
      const detail = await this.errorDetail(res);
      const error = providerError(`Image provider returned HTTP ${res.statusCode}${detail ? `: ${detail}` : ''}`);
      // 429/503: turned away before any work began, so a router may send it to another provider.
      throw isRefusalStatus(res.statusCode ?? 0) ? NotAcceptedError.from(error) : error;
    }
    return res;
  }

  /** Runs one upstream exchange under the provider timeout, mapping every failure to a provider_error. */
  private async guard<T>(run: (deadline: Deadline) => Promise<T>): Promise<T> {
    const deadline = new Deadline(this.timeoutMs);
    try {
      return await run(deadline);
    } catch (error) {
      throw this.failure(error, deadline);
    } finally {
      deadline.disarm();
    }
  }

  // ---- responses ---------------------------------------------------------------------------------

  private async readBatch(res: IncomingMessage, request: GenerateRequest, signal: AbortSignal): Promise<ImageBatch> {
    // Base64 is 4/3 of the bytes; allow a full batch of the largest images plus the JSON around them.
    const limit = Math.ceil((this.maxImageBytes * 4) / 3) * Math.max(1, request.n) + 1024 * 1024;
    const { body, inline } = await this.answers.run(() => this.readAnswer(res, limit));
    const images = await Promise.all(
      (body.data as UpstreamImage[]).map(async (item, i): Promise<GeneratedImage> => {
        const revisedPrompt = typeof item?.revised_prompt === 'string' ? item.revised_prompt : undefined;
        const image = inline[i];
        if (image) return { ...image, revisedPrompt };
        if (typeof item?.url === 'string') return { bytes: await this.download(item.url, signal), revisedPrompt };
        throw providerError('Image provider returned an image with neither b64_json nor url');
      }),
    );
    return { images, model: request.model ?? this.modelOf(body), usage: isUsage(body.usage) ? body.usage : undefined };
  }

  /** The answer's JSON, and the images it holds inline (base64), decoded as the bytes came in. */
  private async readAnswer(res: IncomingMessage, limit: number): Promise<{ body: { data: unknown[]; model?: unknown; usage?: unknown }; inline: Array<Pick<GeneratedImage, 'bytes' | 'release'> | undefined> }> {
    const declared = Number(res.headers['content-length']);
    const reader = new ImagesAnswerReader(Number.isSafeInteger(declared) ? declared : undefined);
    await readLimited(bodyOf(res), limit, 'answer', (chunk) => {
      reader.push(chunk);
      releaseChunk(chunk);
    });
    let answer;
    try {
      answer = reader.finish();
    } catch {
      throw providerError('Image provider returned a response that is not JSON');
    }
    const body = answer.json as { data?: unknown; model?: unknown; usage?: unknown } | null;
    if (!body || !Array.isArray(body.data)) throw providerError('Image provider returned an unexpected response: no data array');
    const inline = (body.data as UpstreamImage[]).map((item) => {
      if (typeof item?.b64_json !== 'string') return undefined;
      // Values that had to go through JSON.parse are decoded here, still inside the reading slot.
      const image = answer.imageOf(item.b64_json, 'an image');
      this.checkSize(image.bytes);
      return image;
    });
    return { body: body as { data: unknown[] }, inline };
  }

  /** Fetches an image the provider answered with as a URL; the key goes only to the provider's own origin. */
  private async download(url: string, signal: AbortSignal): Promise<Buffer> {
    const dataUrl = /^data:image\/[a-z+.-]+;base64,(.*)$/is.exec(url);
    if (dataUrl) return this.checkSize(decodeBase64(dataUrl[1]!, 'an image'));
    let target: URL;
    try {
      target = new URL(url, `${this.base}/`);
    } catch {
      throw providerError('Image provider returned an invalid image URL');
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw providerError('Image provider returned an image URL that is not http(s)');
    const sameOrigin = target.origin === new URL(this.base).origin;
    // fetch here: such URLs point anywhere (object stores, CDNs) and may redirect.
    const res = await fetch(target, { headers: sameOrigin ? this.headers() : {}, signal });
    if (!res.ok) {
      await res.body?.cancel();
      throw providerError(`Could not download an image from the image provider's URL (HTTP ${res.status})`);
    }
    const body = res.body;
    if (!body) return Buffer.alloc(0);
    return readCapped({ chunks: chunksOf(body), length: res.headers.get('content-length'), close: () => void body.cancel().catch(() => undefined) }, this.maxImageBytes, 'image');
  }

  /** Reads an upstream body, refusing to hold more than `limit` bytes; leaving early closes the connection. */
  private async readCapped(res: IncomingMessage, limit: number, what: 'answer' | 'image'): Promise<Buffer> {
    return readCapped(bodyOf(res), limit, what);
  }

  private checkSize(bytes: Buffer): Buffer {
    if (bytes.length > this.maxImageBytes) throw providerError(`Image provider returned an image larger than Easel accepts (${this.maxImageBytes} bytes)`);
    return bytes;
  }

  private modelOf(body: { model?: unknown }): string {
    return typeof body.model === 'string' && body.model ? body.model : UPSTREAM_DEFAULT_MODEL;
  }

  // ---- errors ------------------------------------------------------------------------------------

  /** The upstream's own error message, if it sent a JSON one (bounded, without the key). */
  private async errorDetail(res: IncomingMessage): Promise<string> {
    try {
      const text = (await this.readCapped(res, ERROR_BODY_LIMIT, 'answer')).toString('utf8');
      return this.detailOf(JSON.parse(text));
    } catch {
      return '';
    }
  }

  private detailOf(body: unknown): string {
    const b = body as { error?: unknown; message?: unknown; detail?: unknown } | null;
    const error = b?.error as { message?: unknown } | string | undefined;
    const message = typeof error === 'string' ? error : (error?.message ?? b?.message ?? b?.detail);
    return typeof message === 'string' ? this.scrub(message).slice(0, 300) : '';
  }

  private scrub(text: string): string {
    return this.apiKey ? text.split(this.apiKey).join('[redacted]') : text;
  }

  private failure(error: unknown, deadline: Deadline): ApiError {
    if (error instanceof ApiError) {
      const scrubbed = new ApiError(error.status, error.type, this.scrub(error.message), { param: error.param, code: error.code });
      return error instanceof NotAcceptedError ? NotAcceptedError.from(scrubbed) : scrubbed;
    }
    if (deadline.timedOut || error instanceof UpstreamTimeoutError) {
      return providerError(`Image provider did not answer within ${Math.round(this.timeoutMs / 1000)} s`, error);
    }
    const code = ((error as { cause?: { code?: unknown } })?.cause?.code ?? (error as { code?: unknown })?.code) as string | undefined;
    const reason: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      ENOTFOUND: 'host not found',
      EAI_AGAIN: 'host not found',
      ECONNRESET: 'connection reset',
      UND_ERR_SOCKET: 'connection closed',
      UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
      UND_ERR_BODY_TIMEOUT: 'no answer in time',
    };
    const why = code && reason[code] ? reason[code] : 'request failed';
    return providerError(`Could not reach the image provider (${why})`, error);
  }
}

/** An upstream body to read: its chunks, its declared length, and how to drop the rest of it. */
interface BodySource {
  chunks: AsyncIterable<Uint8Array>;
  /** The content-length header, if any. */
  length: string | null | undefined;
  close: () => void;
}

/** Hands a body's chunks to `take`, refusing to read more than `limit` bytes. */
async function readLimited(body: BodySource, limit: number, what: 'answer' | 'image', take: (chunk: Buffer) => void): Promise<void> {
  const tooLarge = () => providerError(`Image provider returned an ${what} larger than Easel accepts (${limit} bytes)`);
  if (Number(body.length ?? 0) > limit) {
    body.close();
    throw tooLarge();
  }
  let total = 0;
  for await (const chunk of body.chunks) {
    total += chunk.byteLength;
    // Leaving the loop early closes the connection, so a body past the limit is not read to its end.
    if (total > limit) throw tooLarge();
    take(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
}

/** A whole body, at most `limit` bytes of it. */
async function readCapped(body: BodySource, limit: number, what: 'answer' | 'image'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await readLimited(body, limit, what, (chunk) => chunks.push(chunk));
  return Buffer.concat(chunks);
}
