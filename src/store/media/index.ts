// The one place that picks the media store from the configuration.
import type { Config } from '../../config.ts';
import type { MediaStore } from './media-store.ts';
import { FsMediaStore } from './fs.ts';

export type { MediaStore, StoredObject } from './media-store.ts';

export async function createMediaStore(config: Config['media']): Promise<MediaStore> {
  switch (config.store) {
    case 'fs':
      return new FsMediaStore(config.dir);
    case 's3': {
      // Loaded only when used: the AWS SDK is a large share of start-up time.
      const { S3MediaStore } = await import('./s3.ts');
      return new S3MediaStore(config.s3);
    }
  }
}
