import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('scale-out configuration', () => {
  it('reads the S3 store with its prefix', () => {
    const config = loadConfig({ MEDIA_STORE: 's3', S3_BUCKET: 'b', S3_ENDPOINT: 'http://minio:9000/', S3_FORCE_PATH_STYLE: 'true', S3_PREFIX: '/easel/media/' });
    expect(config.media).toEqual({
      store: 's3',
      s3: { endpoint: 'http://minio:9000', bucket: 'b', region: 'us-east-1', accessKeyId: undefined, secretAccessKey: undefined, forcePathStyle: true, prefix: 'easel/media/' },
    });
    const bare = loadConfig({ MEDIA_STORE: 's3', S3_BUCKET: 'b' }).media;
    expect(bare.store === 's3' && bare.s3.prefix).toBe('');
  });

  it('refuses an S3_PREFIX that is not a plain key path', () => {
    for (const bad of ['a/../b', 'a b', 'a//b', '.']) {
      expect(() => loadConfig({ MEDIA_STORE: 's3', S3_BUCKET: 'b', S3_PREFIX: bad }), bad).toThrow(ConfigError);
    }
  });

  it('reads REDIS_KEY_PREFIX and TRUST_PROXY', () => {
    expect(loadConfig({}).redisKeyPrefix).toBe('easel:');
    expect(loadConfig({ REDIS_KEY_PREFIX: 'prod:' }).redisKeyPrefix).toBe('prod:');
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'off' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toBe('10.0.0.0/8, 127.0.0.1');
  });
});
