// Image generations and edits: the flags, the conversation's owner, the provider call (asked again until
// n images are in), the media store, then the conversation — in that order, so a failure keeps nothing.
import type { Kysely } from 'kysely';
import { badRequest, notFound, notImplemented, payloadTooLarge, providerError } from '../lib/errors.ts';
import { FORMAT_BY_MIME, imageDimensions, sniffImageType, type ImageMime } from '../lib/image-type.ts';
import { allSettledOrFirstError } from '../lib/settle.ts';
import { nowSeconds } from '../lib/time.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ConversationsService } from './conversations.ts';
import type { UsageService } from './usage.ts';
import type { ContentPart, MediaUrlSigner, NewItem } from './items.ts';
import { describeBytes, type MediaService, type StoredMedia } from './media.ts';
import type { Database } from '../store/db/schema.ts';
import {
  addImageUsage,
  type EditRequest,
  type GenerateRequest,
  type GeneratedImage,
  type ImageJob,
  type ImageOptions,
  type ImageProvider,
  type ImageUsage,
  type InputImage,
} from '../providers/image/provider.ts';

type Nullable<T> = { [K in keyof T]?: T[K] | null };

/** A request's fields after schema validation (defaults applied). */
export interface ImageParams extends Nullable<ImageOptions> {
  prompt: string;
  n: number;
  size: string;
  response_format: 'url' | 'b64_json';
  model?: string | null;
  conversation_id?: string;
  store: boolean;
  stream?: boolean | null;
  partial_images?: number | null;
}

/** Where an edit's input image comes from: bytes in the request, or media the caller already has. */
export type ImageSource = { param: string; bytes: Buffer } | { param: string; mediaId: string };

export interface EditSources {
  images: ImageSource[];
  mask?: ImageSource;
}

export interface ImageDataView {
  id: string;
  url?: string;
  b64_json?: string;
  revised_prompt?: string;
}

export interface ImagesResponseView {
  created: number;
  data: ImageDataView[];
  size: string;
  output_format: string;
  quality?: string;
  background?: string;
  usage?: ImageUsage;
}

export interface ImageStreamEventView {
  type: string;
  b64_json: string;
  created_at: number;
  size: string;
  quality: string;
  background: string;
  output_format: string;
  partial_image_index?: number;
  usage?: ImageUsage;
  id?: string;
  url?: string;
  revised_prompt?: string;
}

interface ResolvedInput extends InputImage {
  param: string;
  /** Set when the caller named media they already had; otherwise the bytes came with the request. */
  mediaId?: string;
}

interface Prepared {
  job: ImageJob;
  /** The edit's inputs, for the conversation history. */
  inputs: ResolvedInput[];
  linkTo: string | undefined;
}

/** What a finished async job keeps: its images by id (URLs are signed when it is read) and the answer's other fields. */
export interface JobResult {
  created: number;
  /** The model that made the images. */
  model: string;
  size: string;
  output_format: string;
  quality?: string;
  background?: string;
  usage?: ImageUsage;
  images: Array<{ id: string; mime: string; revised_prompt?: string }>;
}

/** Records an async job's result inside the transaction that links its images (trx undefined: nothing to link). */
export type JobCommit = (result: JobResult, trx: Kysely<Database> | undefined) => Promise<void>;

export interface ImagesConfig {
  imageGenerationEnabled: boolean;
  imageProviderEnabled: boolean;
  /** All of an edit's input images together (the per-image limit is the media service's, the mask's too). */
  maxEditInputBytes: number;
}

const EMPTY_USAGE: ImageUsage = { input_tokens: 0, output_tokens: 0, total_tokens: 0, input_tokens_details: { image_tokens: 0, text_tokens: 0 } };

function optionsOf(params: ImageParams): ImageOptions {
  const keys: Array<keyof ImageOptions> = ['quality', 'style', 'background', 'output_format', 'output_compression', 'moderation', 'user', 'safety_identifier', 'input_fidelity'];
  return Object.fromEntries(keys.filter((k) => params[k] !== undefined && params[k] !== null).map((k) => [k, params[k]])) as ImageOptions;
}

export class ImagesService {
  private readonly config: ImagesConfig;
  private readonly provider: ImageProvider;
  private readonly media: MediaService;
  private readonly conversations: ConversationsService;
  private readonly usage: UsageService | undefined;
  private readonly metrics: Metrics | undefined;

  constructor(deps: {
    config: ImagesConfig;
    provider: ImageProvider;
    media: MediaService;
    conversations: ConversationsService;
    usage?: UsageService;
    metrics?: Metrics;
  }) {
    this.config = deps.config;
    this.provider = deps.provider;
    this.media = deps.media;
    this.conversations = deps.conversations;
    this.usage = deps.usage;
    this.metrics = deps.metrics;
  }

  /** Byte limits for an edit's inputs, for the routes that read them off the wire. */
  get editLimits(): { perImage: number; allImages: number; withMask: number } {
    const perImage = this.media.maxImageBytes;
    return { perImage, allImages: this.config.maxEditInputBytes, withMask: this.config.maxEditInputBytes + perImage };
  }

  async generate(userId: string, params: ImageParams, sign: MediaUrlSigner): Promise<ImagesResponseView> {
    const prepared = await this.prepare(userId, params, undefined);
    return this.complete(userId, params, prepared, sign);
  }

  async edit(userId: string, params: ImageParams, sources: EditSources, sign: MediaUrlSigner): Promise<ImagesResponseView> {
    const prepared = await this.prepare(userId, params, sources);
    return this.complete(userId, params, prepared, sign);
  }

  /**
   * `stream: true`: checks everything first (so a bad request is an ordinary error), then yields the
   * provider's partial images and, once the image is stored and linked, the completed event.
   */
  async stream(userId: string, params: ImageParams, sources: EditSources | undefined, sign: MediaUrlSigner): Promise<AsyncIterable<ImageStreamEventView>> {
    const prepared = await this.prepare(userId, params, sources);
    return this.streamEvents(userId, params, prepared, sign);
  }

  /** Refuses now what generate() would refuse before calling a provider: an async job's submission. */
  async accept(userId: string, params: ImageParams): Promise<void> {
    await this.prepare(userId, params, undefined);
  }

  /**
   * An async job's generation, on `provider` (the router pinned to the provider the job runner reserved).
   * `commit` records the result in the same transaction that links the images to the conversation; if it
   * throws (the job's claim was lost), the images are discarded and nothing is linked.
   */
  async generateForJob(userId: string, params: ImageParams, provider: ImageProvider, commit: JobCommit): Promise<void> {
    const prepared = await this.prepare(userId, params, undefined);
    const result = await this.produce(prepared.job, provider);
    const size = result.size ?? (await this.sizeOf(params, result.images[0]!.bytes));
    const stored = await this.keep(userId, params, prepared, result.images.map((i) => i.bytes), result.model, size, (images, trx) =>
      commit(
        {
          created: nowSeconds(),
          model: result.model,
          size,
          output_format: FORMAT_BY_MIME[images[0]!.mime],
          ...(params.quality ? { quality: params.quality } : {}),
          ...(params.background ? { background: params.background } : {}),
          ...(result.usage ? { usage: result.usage } : {}),
          images: images.map(({ id, mime }, i) => ({ id, mime, ...(result.images[i]!.revisedPrompt ? { revised_prompt: result.images[i]!.revisedPrompt } : {}) })),
        },
        trx,
      ));
    await this.record(userId, result.model, size, stored.length);
  }

  // ---- steps -------------------------------------------------------------------------------------

  /** Everything that can be refused before the provider is asked. */
  private async prepare(userId: string, params: ImageParams, sources: EditSources | undefined): Promise<Prepared> {
    if (params.stream && params.n > 1) throw badRequest('Streaming supports only n=1.', 'n', 'invalid_value');
    if (!this.config.imageGenerationEnabled) throw notImplemented('Image generation is not enabled on this server.');
    if (!this.config.imageProviderEnabled) throw notFound('Image provider not configured');
    if (params.conversation_id) await this.conversations.own(userId, params.conversation_id);
    const request: GenerateRequest = {
      prompt: params.prompt,
      n: params.n,
      size: params.size,
      ...(params.model ? { model: params.model } : {}),
      options: optionsOf(params),
    };
    const linkTo = params.conversation_id && params.store ? params.conversation_id : undefined;
    // A model, size or operation the providers cannot serve is refused before any input is read.
    this.provider.check?.(sources ? { operation: 'edit', request: { ...request, images: [] } } : { operation: 'generate', request });
    if (!sources) return { job: { operation: 'generate', request }, inputs: [], linkTo };
    const inputs = await this.resolveInputs(userId, sources);
    const mask = sources.mask ? await this.resolveMask(userId, sources.mask, inputs[0]!) : undefined;
    const edit: EditRequest = { ...request, images: inputs.map(({ bytes, mime }) => ({ bytes, mime })), ...(mask ? { mask } : {}) };
    return { job: { operation: 'edit', request: edit }, inputs, linkTo };
  }

  private async resolveInputs(userId: string, sources: EditSources): Promise<ResolvedInput[]> {
    const inputs = await Promise.all(
      sources.images.map(async (source): Promise<ResolvedInput> => {
        if ('mediaId' in source) {
          const { row, bytes } = await this.media.readOwned(userId, source.mediaId, source.param);
          return { param: source.param, bytes, mime: row.mime as ImageMime, mediaId: row.id };
        }
        return { param: source.param, bytes: source.bytes, mime: this.media.inspect(source.bytes, source.param) };
      }),
    );
    const total = inputs.reduce((sum, i) => sum + i.bytes.length, 0);
    if (total > this.config.maxEditInputBytes) {
      throw payloadTooLarge(`The input images together are larger than the ${describeBytes(this.config.maxEditInputBytes)} limit.`, 'image');
    }
    return inputs;
  }

  /** The mask is a PNG the size of the first image (OpenAI's rule). */
  private async resolveMask(userId: string, source: ImageSource, first: ResolvedInput): Promise<InputImage> {
    const bytes = 'mediaId' in source ? (await this.media.readOwned(userId, source.mediaId, source.param)).bytes : source.bytes;
    const mime = this.media.inspect(bytes, source.param);
    if (mime !== 'image/png') throw badRequest(`Invalid mask '${source.param}': the mask must be a PNG image.`, source.param, 'invalid_image_format');
    const [maskSize, imageSize] = await Promise.all([imageDimensions(bytes), imageDimensions(first.bytes)]);
    if (!maskSize) throw badRequest('Invalid mask: the PNG could not be read.', source.param, 'invalid_image');
    if (!imageSize) throw badRequest(`Invalid image '${first.param}': the image could not be read.`, first.param, 'invalid_image');
    if (maskSize.width !== imageSize.width || maskSize.height !== imageSize.height) {
      throw badRequest(
        `Invalid mask: it is ${maskSize.width}x${maskSize.height} but the image is ${imageSize.width}x${imageSize.height}; they must be the same size.`,
        source.param,
        'invalid_mask_size',
      );
    }
    return { bytes, mime };
  }

  /**
   * Calls the provider until n images are in: some answer fewer than asked (one per call, say). Upstream
   * calls are timed per provider by the router (metrics).
   */
  private async produce(job: ImageJob, provider = this.provider): Promise<{ images: GeneratedImage[]; model: string; usage?: ImageUsage; size?: string }> {
    const wanted = job.request.n;
    const call = (n: number) => (job.operation === 'generate' ? provider.generate({ ...job.request, n }) : provider.edit({ ...job.request, n }));
    const first = await call(wanted);
    if (first.images.length === 0) throw providerError('Image provider returned no images');
    const images = [...first.images];
    let usage = first.usage;
    while (images.length < wanted) {
      const perCall = first.images.length;
      const remaining = wanted - images.length;
      const batches = await allSettledOrFirstError(Array.from({ length: Math.ceil(remaining / perCall) }, (_, i) => call(Math.min(perCall, remaining - i * perCall))));
      if (batches.every((b) => b.images.length === 0)) throw providerError('Image provider returned no images');
      for (const batch of batches) {
        images.push(...batch.images);
        usage = addImageUsage(usage, batch.usage);
      }
    }
    const kept = images.slice(0, wanted);
    for (const image of kept) this.checkOutput(image.bytes);
    return { images: kept, model: first.model, usage, ...(first.size ? { size: first.size } : {}) };
  }

  /** Counts what was made; usage is a tally, not a gate, so a failure to count does not fail the request. */
  private async record(userId: string, model: string, size: string, n: number): Promise<void> {
    this.metrics?.imagesGenerated(size, n);
    await this.usage?.recordImages(userId, model, size, n).catch(() => undefined);
  }

  /** A provider's image must be one Easel can keep; if not, the provider failed, not the caller. */
  private checkOutput(bytes: Buffer): void {
    if (!sniffImageType(bytes)) throw providerError('Image provider returned data that is not a PNG, JPEG or WebP image');
    if (bytes.length > this.media.maxImageBytes) throw providerError(`Image provider returned an image larger than ${describeBytes(this.media.maxImageBytes)}`);
  }

  /**
   * Stores the outputs (and an edit's new inputs, when they go into the conversation), then appends the
   * prompt and the image call to the conversation in one transaction. If that fails, the media goes too.
   * `alongside` (an async job's bookkeeping) runs in that transaction, or alone when nothing is linked.
   */
  private async keep(
    userId: string,
    params: ImageParams,
    prepared: Prepared,
    outputs: Buffer[],
    model: string,
    size: string,
    alongside?: (images: StoredMedia[], trx: Kysely<Database> | undefined) => Promise<void>,
  ): Promise<StoredMedia[]> {
    const newInputs = prepared.linkTo ? prepared.inputs.filter((i) => !i.mediaId) : [];
    const stored = await this.media.saveAll(userId, [...outputs, ...newInputs.map((i) => i.bytes)]);
    const images = stored.slice(0, outputs.length);
    this.metrics?.bytesStored(stored.reduce((sum, m) => sum + m.bytes.length, 0));
    if (!prepared.linkTo) {
      try {
        await alongside?.(images, undefined);
      } catch (error) {
        await this.media.discard(stored.map((m) => m.id));
        throw error;
      }
      return images;
    }
    const storedInputs = stored.slice(outputs.length);
    let next = 0;
    const inputParts: ContentPart[] = prepared.inputs.map((input) => {
      const ref = input.mediaId ? { id: input.mediaId, mime: input.mime } : storedInputs[next++]!;
      return { type: 'input_image', file_id: ref.id, image_url: null, mime: ref.mime };
    });
    const items: NewItem[] = [
      { type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: params.prompt }, ...inputParts] },
      {
        type: 'image_generation_call',
        status: 'completed',
        action: prepared.job.operation,
        prompt: params.prompt,
        model,
        size,
        images: images.map(({ id, mime }) => ({ id, mime })),
      },
    ];
    try {
      await this.conversations.append(prepared.linkTo, items, alongside && ((trx) => alongside(images, trx)));
    } catch (error) {
      await this.media.discard(stored.map((m) => m.id));
      throw error;
    }
    return images;
  }

  /** The size asked for, or with `auto` the size the image came out. */
  private async sizeOf(params: ImageParams, bytes: Buffer): Promise<string> {
    if (params.size !== 'auto') return params.size;
    const size = await imageDimensions(bytes);
    return size ? `${size.width}x${size.height}` : 'auto';
  }

  private async complete(userId: string, params: ImageParams, prepared: Prepared, sign: MediaUrlSigner): Promise<ImagesResponseView> {
    const result = await this.produce(prepared.job);
    const size = result.size ?? (await this.sizeOf(params, result.images[0]!.bytes));
    const stored = await this.keep(userId, params, prepared, result.images.map((i) => i.bytes), result.model, size);
    await this.record(userId, result.model, size, stored.length);
    const data = stored.map((media, i): ImageDataView => {
      const revised = result.images[i]!.revisedPrompt;
      return {
        id: media.id,
        ...(params.response_format === 'b64_json' ? { b64_json: media.bytes.toString('base64') } : { url: sign(media) }),
        ...(revised ? { revised_prompt: revised } : {}),
      };
    });
    // Stored, hashed and encoded: nothing needs the bytes any more.
    for (const image of result.images) image.release?.();
    return {
      created: nowSeconds(),
      data,
      size,
      output_format: FORMAT_BY_MIME[stored[0]!.mime],
      ...(params.quality ? { quality: params.quality } : {}),
      ...(params.background ? { background: params.background } : {}),
      ...(result.usage ? { usage: result.usage } : {}),
    };
  }

  private async *streamEvents(userId: string, params: ImageParams, prepared: Prepared, sign: MediaUrlSigner): AsyncIterable<ImageStreamEventView> {
    const prefix = prepared.job.operation === 'generate' ? 'image_generation' : 'image_edit';
    const common = async (bytes: Buffer) => {
      const mime = sniffImageType(bytes);
      return {
        b64_json: bytes.toString('base64'),
        created_at: nowSeconds(),
        size: await this.sizeOf(params, bytes),
        quality: params.quality ?? 'auto',
        background: params.background ?? 'auto',
        output_format: mime ? FORMAT_BY_MIME[mime] : (params.output_format ?? 'png'),
      };
    };
    for await (const event of this.provider.stream(prepared.job, params.partial_images ?? 0)) {
      if (event.type === 'partial') {
        yield { type: `${prefix}.partial_image`, ...(await common(event.bytes)), partial_image_index: event.index };
        continue;
      }
      this.checkOutput(event.image.bytes);
      const fields = { ...(await common(event.image.bytes)), ...(event.size ? { size: event.size } : {}) };
      const [media] = await this.keep(userId, params, prepared, [event.image.bytes], event.model, fields.size);
      await this.record(userId, event.model, fields.size, 1);
      yield {
        type: `${prefix}.completed`,
        ...fields,
        usage: event.usage ?? EMPTY_USAGE,
        id: media!.id,
        url: sign(media!),
        ...(event.image.revisedPrompt ? { revised_prompt: event.image.revisedPrompt } : {}),
      };
      return;
    }
    throw providerError('Image provider ended its stream without an image');
  }
}
