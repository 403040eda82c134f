// Images Easel keeps: checked by their real type and size, written to the media store first and recorded
// in the media table second, so a row never points at bytes that are not there.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { badRequest, notFound, payloadTooLarge } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { allSettledOrFirstError } from '../lib/settle.ts';
import { sniffImageType, type ImageMime } from '../lib/image-type.ts';
import type { MediaRow } from '../store/db/schema.ts';
import type { MediaRepository } from '../store/db/repositories/media.ts';
import type { MediaStore } from '../store/media/media-store.ts';
import { EXTENSIONS } from '../store/media/signing.ts';

export interface StoredMedia {
  id: string;
  mime: ImageMime;
  bytes: Buffer;
  sha256: string;
}

export interface MediaContent {
  row: MediaRow;
  body: Readable;
}

export function describeBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MB` : `${bytes} bytes`;
}

export class MediaService {
  private readonly store: MediaStore;
  private readonly repository: MediaRepository;
  readonly maxImageBytes: number;

  constructor(deps: { store: MediaStore; repository: MediaRepository; maxImageBytes: number }) {
    this.store = deps.store;
    this.repository = deps.repository;
    this.maxImageBytes = deps.maxImageBytes;
  }

  /** The image's real type, or an OpenAI-shaped error naming the parameter it came in. */
  inspect(bytes: Buffer, param: string): ImageMime {
    if (bytes.length > this.maxImageBytes) {
      throw payloadTooLarge(`Image '${param}' is larger than the ${describeBytes(this.maxImageBytes)} limit.`, param);
    }
    const mime = bytes.length > 0 ? sniffImageType(bytes) : undefined;
    if (!mime) throw badRequest(`Invalid image '${param}': only PNG, JPEG and WebP images are supported.`, param, 'invalid_image_format');
    return mime;
  }

  /**
   * Keeps a batch of images for a user: every file is written before any row, and the rows go in as one
   * statement. On failure whatever was written is removed again, so nothing is half kept.
   */
  async saveAll(userId: string, images: Buffer[]): Promise<StoredMedia[]> {
    const now = Date.now();
    const prepared = images.map((bytes, index) => {
      const mime = this.inspect(bytes, `image[${index}]`);
      const id = newId('jan');
      // Two characters of the random tail spread files over 1024 directories.
      const key = `${id.slice(-2)}/${id}.${EXTENSIONS[mime]}`;
      return { id, mime, bytes, key };
    });
    const written: string[] = [];
    try {
      // Every write is over before a failure is handled, so none lands after the cleanup.
      const stored = await allSettledOrFirstError(
        prepared.map(async ({ id, mime, bytes, key }) => {
          // Hashed here rather than as a WebCrypto job: that would copy the image, and keep the copy until
          // a garbage collection.
          const sha256 = createHash('sha256').update(bytes).digest('hex');
          await this.store.put(key, bytes, mime);
          written.push(key);
          const row: MediaRow = { id, user_id: userId, mime, bytes: bytes.length, sha256, storage_key: key, created_at: now };
          return { row, media: { id, mime, bytes, sha256 } satisfies StoredMedia };
        }),
      );
      await this.repository.insertMany(stored.map((s) => s.row));
      return stored.map((s) => s.media);
    } catch (error) {
      await Promise.allSettled(written.map((key) => this.store.delete(key)));
      throw error;
    }
  }

  /** Takes back media saved by a request that then failed: rows first, so no row outlives its bytes. */
  async discard(ids: string[]): Promise<void> {
    const rows = (await Promise.all(ids.map((id) => this.repository.find(id)))).filter((r) => r !== undefined);
    await this.repository.delete(rows.map((r) => r.id));
    await Promise.allSettled(rows.map((r) => this.store.delete(r.storage_key)));
  }

  async find(id: string): Promise<MediaRow | undefined> {
    return this.repository.find(id);
  }

  /** The caller's media row, or 404 whether it is missing or someone else's. */
  async own(userId: string, id: string, param: string | null = null): Promise<MediaRow> {
    const row = await this.repository.findOwned(id, userId);
    if (!row) throw notFound(`Media '${id}' not found`, param);
    return row;
  }

  async open(row: MediaRow): Promise<MediaContent> {
    const object = await this.store.get(row.storage_key);
    // A row without bytes is a fault of the store, not of the caller.
    if (!object) throw new Error(`media ${row.id}: object ${row.storage_key} missing from the ${this.store.kind} store`);
    return { row, body: object.body };
  }

  /** The bytes of the caller's own image, for use as an edit input. */
  async readOwned(userId: string, id: string, param: string): Promise<{ row: MediaRow; bytes: Buffer }> {
    const row = await this.own(userId, id, param);
    const { body } = await this.open(row);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return { row, bytes: Buffer.concat(chunks) };
  }
}
