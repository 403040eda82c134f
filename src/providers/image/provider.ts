// The one interface every image upstream implements: the built-in demo model and OpenAI-compatible servers.
import type { ImageMime } from '../../lib/image-type.ts';
import type { ModelSource } from '../models.ts';

/** OpenAI's optional image parameters, passed on to the provider as the caller gave them. */
export interface ImageOptions {
  quality?: string;
  style?: string;
  background?: string;
  output_format?: 'png' | 'jpeg' | 'webp';
  output_compression?: number;
  moderation?: string;
  user?: string;
  safety_identifier?: string;
  input_fidelity?: string;
}

export interface GenerateRequest {
  prompt: string;
  n: number;
  /** `WIDTHxHEIGHT`, or `auto` (edits: the provider decides, usually the input's size). */
  size: string;
  model?: string;
  options: ImageOptions;
}

export interface InputImage {
  bytes: Buffer;
  mime: ImageMime;
}

export interface EditRequest extends GenerateRequest {
  /** One or more images; the first is the one edited, the mask applies to it. */
  images: InputImage[];
  mask?: InputImage;
}

export interface ImageUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  input_tokens_details: { image_tokens: number; text_tokens: number };
}

/** Two calls' usage together (n filled by several calls, or a fan-out). */
export function addImageUsage(a: ImageUsage | undefined, b: ImageUsage | undefined): ImageUsage | undefined {
  if (!a || !b) return a ?? b;
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
    input_tokens_details: {
      image_tokens: (a.input_tokens_details?.image_tokens ?? 0) + (b.input_tokens_details?.image_tokens ?? 0),
      text_tokens: (a.input_tokens_details?.text_tokens ?? 0) + (b.input_tokens_details?.text_tokens ?? 0),
    },
  };
}

export interface GeneratedImage {
  bytes: Buffer;
  revisedPrompt?: string;
  /**
   * Frees the bytes' memory at once rather than at the next full garbage collection (they read as empty
   * afterwards). Offered for buffers the adapter made itself; called by whoever is last done with them.
   */
  release?: () => void;
}

export interface ImageBatch {
  /** May hold fewer images than asked for; the caller asks again for the rest. */
  images: GeneratedImage[];
  /** The model that made them, for the conversation history. */
  model: string;
  usage?: ImageUsage;
  /** The size made, when a provider's size map made another than the one asked for. */
  size?: string;
}

export type ImageStreamEvent =
  | { type: 'partial'; index: number; bytes: Buffer }
  | { type: 'completed'; image: GeneratedImage; model: string; usage?: ImageUsage; size?: string };

export type ImageOperation = 'generate' | 'edit';

export type ImageJob = { operation: 'generate'; request: GenerateRequest } | { operation: 'edit'; request: EditRequest };

export interface ImageProvider extends ModelSource {
  /** 'demo' or 'openai-compatible'; 'routed' for the router over the configured providers. */
  readonly kind: 'demo' | 'openai-compatible' | 'routed';
  /** Throws the 400 the request would get (a model, size or operation it cannot serve), without calling anyone. */
  check?(job: ImageJob): void;
  generate(request: GenerateRequest): Promise<ImageBatch>;
  edit(request: EditRequest): Promise<ImageBatch>;
  /**
   * One image (n = 1), preceded by up to `partialImages` previews when the provider makes them.
   * The last event is always 'completed'. Failures throw ApiErrors (provider_error for upstream faults).
   */
  stream(job: ImageJob, partialImages: number): AsyncIterable<ImageStreamEvent>;
}
