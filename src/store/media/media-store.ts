// Where media bytes live. The filesystem and S3 stores implement this one interface.
import type { Readable } from 'node:stream';

export interface StoredObject {
  body: Readable;
  bytes: number;
}

export interface MediaStore {
  readonly kind: 'fs' | 's3';
  /** Writes the bytes durably under key; after it resolves the object is readable. */
  put(key: string, bytes: Buffer, mime: string): Promise<void>;
  /** The object, or undefined when there is none. */
  get(key: string): Promise<StoredObject | undefined>;
  delete(key: string): Promise<void>;
  /** Keys with their last-modified time, for the orphan sweeper. */
  list?(): AsyncIterable<{ key: string; modifiedAt: number }>;
  /** Throws when the store cannot be reached (readiness). */
  ping(): Promise<void>;
}
