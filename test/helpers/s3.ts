// An in-process S3 (s3rver) on a free port with one bucket, for the S3 media store and scale-out tests.
import fs from 'node:fs';
import S3rver from 's3rver';
import { tempDir } from './app.ts';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** What an Easel instance needs to use this bucket. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'easel'): Promise<TestS3> {
  const directory = tempDir('easel-s3-');
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      MEDIA_STORE: 's3',
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_REGION: 'us-east-1',
      // s3rver's fixed test credentials.
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
    },
    async stop() {
      server.httpServer.closeAllConnections();
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
