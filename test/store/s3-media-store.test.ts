import { randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type S3Config } from '../../src/config.ts';
import { createMediaStore } from '../../src/store/media/index.ts';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3MediaStore, createS3Client } from '../../src/store/media/s3.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';

async function bytesOf(body: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function loadS3Config(env: Record<string, string>): S3Config {
  const media = loadConfig(env).media;
  if (media.store !== 's3') throw new Error('expected the s3 store');
  return media.s3;
}

describe('S3 media store', () => {
  let s3: TestS3;
  let config: S3Config;
  let store: S3MediaStore;

  beforeAll(async () => {
    s3 = await startS3();
    config = loadS3Config(s3.env);
    store = new S3MediaStore(config);
  });
  afterAll(async () => {
    store?.destroy();
    await s3?.stop();
  });

  it('is what createMediaStore builds for MEDIA_STORE=s3', async () => {
    const built = await createMediaStore(loadConfig(s3.env).media);
    expect(built.kind).toBe('s3');
    await built.ping();
    (built as S3MediaStore).destroy();
  });

  it('puts, gets and deletes an object byte for byte', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const key = 'ab/jan_01jg8x0v9q4m6t2w7k3c5r8bab.png';
    await store.put(key, bytes, 'image/png');

    const object = await store.get(key);
    expect(object?.bytes).toBe(bytes.length);
    expect((await bytesOf(object!.body)).equals(bytes)).toBe(true);

    await store.delete(key);
    expect(await store.get(key)).toBeUndefined();
  });

  it('overwrites an object under the same key', async () => {
    const key = 'cd/jan_01jg8x0v9q4m6t2w7k3c5r8bcd.webp';
    await store.put(key, Buffer.from('first'), 'image/webp');
    await store.put(key, Buffer.from('second'), 'image/webp');
    expect(await text((await store.get(key))!.body)).toBe('second');
    await store.delete(key);
  });

  it('answers undefined for a missing object, and deleting one succeeds', async () => {
    expect(await store.get('zz/jan_01jg8x0v9q4m6t2w7k3c5r8bzz.png')).toBeUndefined();
    await expect(store.delete('zz/jan_01jg8x0v9q4m6t2w7k3c5r8bzz.png')).resolves.toBeUndefined();
  });

  it('refuses keys that are not media keys', async () => {
    for (const key of ['../secret.png', 'a/../../b.png', '', 'noext', '/abs.png']) {
      await expect(store.put(key, Buffer.from('x'), 'image/png'), key).rejects.toThrow(/Invalid media key/);
    }
  });

  it('lists keys with their modification times', async () => {
    const keys = ['ef/jan_01jg8x0v9q4m6t2w7k3c5r8bef.png', 'gh/jan_01jg8x0v9q4m6t2w7k3c5r8bgh.jpg'];
    for (const key of keys) await store.put(key, Buffer.from(key), 'image/png');
    const listed = [];
    for await (const entry of store.list()) listed.push(entry);
    for (const key of keys) {
      const entry = listed.find((e) => e.key === key);
      expect(entry, key).toBeDefined();
      expect(entry!.modifiedAt).toBeGreaterThan(0);
    }
    for (const key of keys) await store.delete(key);
  });

  it('keeps to its S3_PREFIX and never lists objects that are not media', async () => {
    const tenant = new S3MediaStore(loadS3Config({ ...s3.env, S3_PREFIX: '/tenant-a/' }));
    const key = 'ij/jan_01jg8x0v9q4m6t2w7k3c5r8bij.png';
    await tenant.put(key, Buffer.from('tenant'), 'image/png');
    // Someone else's object in the same bucket.
    const client = createS3Client(config);
    await client.send(new PutObjectCommand({ Bucket: config.bucket, Key: 'other-app/Report 2024.pdf', Body: 'x' }));

    const listed = async (s: S3MediaStore) => {
      const keys: string[] = [];
      for await (const entry of s.list()) keys.push(entry.key);
      return keys;
    };
    expect(await listed(tenant)).toEqual([key]);
    const everything = await listed(store);
    expect(everything).toContain(`tenant-a/${key}`);
    expect(everything).not.toContain('other-app/Report 2024.pdf');
    expect(await store.get(key)).toBeUndefined();
    expect(await text((await tenant.get(key))!.body)).toBe('tenant');

    await tenant.delete(key);
    await client.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: 'other-app/Report 2024.pdf' }));
    client.destroy();
    tenant.destroy();
  });

  it('pings a reachable bucket and throws for a missing bucket or a stopped server', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    const missing = new S3MediaStore({ ...config, bucket: 'no-such-bucket' });
    await expect(missing.ping()).rejects.toThrow();
    missing.destroy();

    const other = await startS3('elsewhere');
    const gone = new S3MediaStore({ ...config, endpoint: other.endpoint, bucket: 'elsewhere' });
    await gone.ping();
    await other.stop();
    await expect(gone.ping()).rejects.toThrow();
    await expect(gone.get('ab/jan_01jg8x0v9q4m6t2w7k3c5r8bab.png')).rejects.toThrow();
    gone.destroy();
  });
});
