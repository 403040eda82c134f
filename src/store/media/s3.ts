// Media bytes as objects in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, …). Easel keeps the
// bucket private and streams objects out through its own signed /images route, so signed URLs behave
// the same on every store and the operator's signing secret and TTL stay the only keys to an image.
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import type { S3Config } from '../../config.ts';
import type { MediaStore, StoredObject } from './media-store.ts';

/** Keys are our own (`ab/jan_….png`); the same rule as the filesystem store, so keys move between them. */
const KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*(\.[A-Za-z0-9]+)+$/;

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new Error(`Invalid media key: ${JSON.stringify(key)}`);
  return key;
}

function isNotFound(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404);
}

export function createS3Client(config: S3Config): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    // Without keys the SDK's default chain applies (environment, shared config, instance or task role).
    ...(config.accessKeyId && config.secretAccessKey
      ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
      : {}),
    // Checksums only where the API demands them: several S3-compatible servers reject or corrupt the
    // flexible-checksum (aws-chunked) uploads the SDK sends by default, and we hash the bytes ourselves.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export class S3MediaStore implements MediaStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(config: S3Config, client: S3Client = createS3Client(config)) {
    this.client = client;
    this.bucket = config.bucket;
    this.prefix = config.prefix;
  }

  private objectKey(key: string): string {
    return this.prefix + checkKey(key);
  }

  /** One PUT of the whole buffer: images are at most MAX_IMAGE_BYTES, far below S3's 5 GB single-PUT limit. */
  async put(key: string, bytes: Buffer, mime: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: bytes, ContentLength: bytes.length, ContentType: mime }),
    );
  }

  /** The object as a stream straight from S3; nothing is buffered in Easel. */
  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      if (!object.Body) return undefined;
      return { body: object.Body as Readable, bytes: object.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Deleting a missing object succeeds, as S3 itself does. */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  /**
   * Easel's objects under the prefix. Anything else in the bucket is not ours and is never listed, so the
   * orphan sweeper cannot delete it.
   */
  async *list(): AsyncIterable<{ key: string; modifiedAt: number }> {
    const input = { Bucket: this.bucket, ...(this.prefix ? { Prefix: this.prefix } : {}) };
    for await (const page of paginateListObjectsV2({ client: this.client }, input)) {
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(this.prefix.length);
        if (key && KEY.test(key)) yield { key, modifiedAt: object.LastModified?.getTime() ?? 0 };
      }
    }
  }

  /** The bucket exists and these credentials may use it. */
  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  /** Closes the client's pooled connections. */
  destroy(): void {
    this.client.destroy();
  }
}
