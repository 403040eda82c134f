// The real type of image bytes, read from their magic numbers: a client's or provider's label is never trusted.
import sharp from 'sharp';

export type ImageMime = 'image/png' | 'image/jpeg' | 'image/webp';

export const IMAGE_MIMES: readonly ImageMime[] = ['image/png', 'image/jpeg', 'image/webp'];

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** png, jpeg or webp by content; undefined for anything else. */
export function sniffImageType(bytes: Uint8Array): ImageMime | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG)) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

/** OpenAI's output_format names for our types. */
export const FORMAT_BY_MIME: Record<ImageMime, 'png' | 'jpeg' | 'webp'> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/webp': 'webp' };
export const MIME_BY_FORMAT: Record<'png' | 'jpeg' | 'webp', ImageMime> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** Width and height from the image header, or undefined when the bytes cannot be read as an image. */
export async function imageDimensions(bytes: Buffer): Promise<{ width: number; height: number } | undefined> {
  try {
    const { width, height } = await sharp(bytes).metadata();
    return width && height ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}
