// The built-in demo image model: in-process, no network, deterministic. It draws a scene from the prompt's
// words (generations) or recolours and captions the input (edits), so the whole API works with zero setup.
import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import { badRequest } from '../../lib/errors.ts';
import type { ModelInfo } from '../models.ts';
import { captionSvg, promptTint, sceneSvg, wordsOf } from './demo-scene.ts';
import type { EditRequest, GenerateRequest, ImageBatch, ImageJob, ImageOptions, ImageProvider, ImageStreamEvent, ImageUsage } from './provider.ts';

export const DEMO_IMAGE_MODEL = 'easel-demo-image';
const LABEL = `${DEMO_IMAGE_MODEL} (demo)`;
/** Edits with size "auto" keep the input's size, within this bound. */
const MAX_AUTO_SIDE = 2048;
/** 2025-01-01, a fixed date so /v1/models does not change between restarts. */
const CREATED = 1_735_689_600;

function parseSize(size: string): { width: number; height: number } | undefined {
  const match = /^(\d+)x(\d+)$/.exec(size);
  return match ? { width: Number(match[1]), height: Number(match[2]) } : undefined;
}

function encode(image: Sharp, options: ImageOptions): Promise<Buffer> {
  const quality = options.output_compression ?? undefined;
  switch (options.output_format) {
    case 'jpeg':
      return image.jpeg({ quality: quality ?? 90 }).toBuffer();
    case 'webp':
      return image.webp({ quality: quality ?? 90 }).toBuffer();
    default:
      // Fast zlib settings keep a 1024x1024 render well under the demo's time budget.
      return image.png({ compressionLevel: 3, adaptiveFiltering: false }).toBuffer();
  }
}

/** A rough token count in OpenAI's shape, so clients that read usage find numbers. */
function usageFor(prompt: string, width: number, height: number, inputImages = 0): ImageUsage {
  const text = Math.ceil(prompt.length / 4);
  const image = inputImages * 65;
  const output = Math.ceil((width * height) / 1024);
  return { input_tokens: text + image, output_tokens: output, total_tokens: text + image + output, input_tokens_details: { image_tokens: image, text_tokens: text } };
}

export class DemoImageProvider implements ImageProvider {
  readonly kind = 'demo' as const;

  async listModels(): Promise<ModelInfo[]> {
    return [{ id: DEMO_IMAGE_MODEL, object: 'model', created: CREATED, owned_by: 'easel', capabilities: ['image_generation', 'image_edit'] }];
  }

  private async render(request: GenerateRequest, variant: number): Promise<Buffer> {
    const { width, height } = parseSize(request.size) ?? { width: 1024, height: 1024 };
    return encode(sharp(Buffer.from(sceneSvg(width, height, request.prompt, variant, LABEL))), request.options);
  }

  async generate(request: GenerateRequest): Promise<ImageBatch> {
    const images = await Promise.all(Array.from({ length: request.n }, (_, i) => this.render(request, i)));
    const { width, height } = parseSize(request.size) ?? { width: 1024, height: 1024 };
    return { images: images.map((bytes) => ({ bytes })), model: DEMO_IMAGE_MODEL, usage: usageFor(request.prompt, width, height) };
  }

  /** The first image, sized, recoloured towards the prompt's colour, softened or sharpened by its words, captioned. */
  private async editOne(request: EditRequest, variant: number): Promise<{ bytes: Buffer; width: number; height: number }> {
    const [first, ...others] = request.images;
    const original = sharp(first!.bytes).rotate();
    const meta = await original.metadata();
    const target = parseSize(request.size);
    const scale = Math.min(1, MAX_AUTO_SIDE / Math.max(meta.width, meta.height));
    const width = target?.width ?? Math.max(1, Math.round(meta.width * scale));
    const height = target?.height ?? Math.max(1, Math.round(meta.height * scale));
    const base = await original.resize(width, height, { fit: 'cover' }).removeAlpha().png().toBuffer();

    const words = new Set(wordsOf(request.prompt));
    let edited = sharp(base);
    if (['blur', 'soft', 'dream', 'dreamy', 'fog', 'foggy', 'mist', 'misty'].some((w) => words.has(w))) edited = edited.blur(Math.max(1, width / 200));
    if (['grayscale', 'greyscale', 'monochrome', 'noir'].some((w) => words.has(w))) edited = edited.greyscale();
    const brightness = words.has('bright') || words.has('sunny') ? 1.15 : words.has('dark') || words.has('night') ? 0.8 : 1;
    if (brightness !== 1) edited = edited.modulate({ brightness });
    const tint = promptTint(`${request.prompt}${variant ? `#${variant}` : ''}`);
    const layers: OverlayOptions[] = [
      { input: { create: { width, height, channels: 4, background: { ...tint, alpha: 0.35 } } }, blend: 'soft-light' },
      { input: { create: { width, height, channels: 4, background: { ...tint, alpha: 0.3 } } }, blend: 'over' },
    ];
    // Further input images appear as thumbnails along the top.
    const thumb = Math.round(Math.min(width, height) / 5);
    for (const [i, other] of others.slice(0, 4).entries()) {
      const input = await sharp(other.bytes).rotate().resize(thumb, thumb, { fit: 'cover' }).png().toBuffer();
      layers.push({ input, left: width - (i + 1) * (thumb + 8), top: 8 });
    }
    let result = await sharp(await edited.png().toBuffer()).composite(layers).png().toBuffer();
    // With a mask, only its transparent parts change: the original shows through where the mask is opaque.
    if (request.mask) {
      const alpha = await sharp(request.mask.bytes).resize(width, height, { fit: 'fill' }).ensureAlpha().extractChannel(3).raw().toBuffer();
      const kept = await sharp(base).joinChannel(alpha, { raw: { width, height, channels: 1 } }).png().toBuffer();
      result = await sharp(result).composite([{ input: kept }]).png().toBuffer();
    }
    const captioned = sharp(result).composite([{ input: Buffer.from(captionSvg(width, height, request.prompt, `${LABEL} edit`)) }]);
    return { bytes: await encode(captioned, request.options), width, height };
  }

  async edit(request: EditRequest): Promise<ImageBatch> {
    try {
      const results = await Promise.all(Array.from({ length: request.n }, (_, i) => this.editOne(request, i)));
      const { width, height } = results[0]!;
      return { images: results.map((r) => ({ bytes: r.bytes })), model: DEMO_IMAGE_MODEL, usage: usageFor(request.prompt, width, height, request.images.length) };
    } catch (error) {
      // The bytes passed the type check but could not be decoded: a broken upload, so the caller's fault.
      if (error instanceof Error && !('status' in error)) throw badRequest(`Could not read the input image: ${error.message}`, 'image', 'invalid_image');
      throw error;
    }
  }

  /** Partial images are the final one seen through ever finer pixels: coarse first, sharper each time. */
  async *stream(job: ImageJob, partialImages: number): AsyncIterable<ImageStreamEvent> {
    const batch = job.operation === 'generate' ? await this.generate({ ...job.request, n: 1 }) : await this.edit({ ...job.request, n: 1 });
    const final = batch.images[0]!;
    const { width, height } = await sharp(final.bytes).metadata();
    for (let index = 0; index < partialImages; index++) {
      const factor = 2 ** (partialImages - index + 2);
      const small = await sharp(final.bytes).resize(Math.max(1, Math.round(width / factor)), Math.max(1, Math.round(height / factor))).toBuffer();
      const preview = sharp(small).resize(width, height, { kernel: 'cubic' });
      yield { type: 'partial', index, bytes: await encode(preview, job.request.options) };
    }
    yield { type: 'completed', image: final, model: batch.model, usage: batch.usage };
  }
}
