import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config.ts';
import { ROOT } from './helpers/server-process.ts';

describe('config', () => {
  it('has zero-configuration defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.database).toEqual({ kind: 'sqlite', file: path.resolve('data/easel.db') });
    expect(config.media).toEqual({ store: 'fs', dir: path.resolve('data/media') });
    expect(config.llmProvider).toBeUndefined();
    expect(config.imageProvider).toBeUndefined();
    expect(config.imageGenerationEnabled).toBe(true);
    expect(config.imageProviderEnabled).toBe(true);
    expect(config.mediaUrlTtlSeconds).toBe(3600);
    expect(config.auth.keysReloadSeconds).toBe(5);
    expect(config.rateLimits.guestLogin).toEqual({ max: 30, windowMs: 60_000, text: '30/min' });
  });

  it('reads providers, strips trailing slashes and keeps the key', () => {
    const config = loadConfig({ IMAGE_PROVIDER_URL: 'http://sd:8003/v1/', IMAGE_PROVIDER_API_KEY: 'k', LLM_PROVIDER_URL: 'https://api.example.com' });
    expect(config.imageProvider).toEqual({ url: 'http://sd:8003/v1', apiKey: 'k', timeoutMs: 300_000 });
    expect(config.llmProvider?.url).toBe('https://api.example.com');
  });

  it('reads PostgreSQL URLs and flags', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@h/db', IMAGE_GENERATION_ENABLED: 'false', IMAGE_PROVIDER_ENABLED: '0' });
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://u@h/db', schema: undefined });
    expect(config.imageGenerationEnabled).toBe(false);
    expect(config.imageProviderEnabled).toBe(false);
  });

  it.each([
    [{ PORT: 'abc' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ MEDIA_STORE: 'ftp' }, /MEDIA_STORE/],
    [{ MEDIA_STORE: 's3' }, /S3_BUCKET/],
    [{ IMAGE_PROVIDER_URL: 'not a url' }, /IMAGE_PROVIDER_URL/],
    [{ IMAGE_GENERATION_ENABLED: 'maybe' }, /IMAGE_GENERATION_ENABLED/],
    [{ RATE_LIMIT_IMAGES: 'lots' }, /RATE_LIMIT_IMAGES/],
    [{ MEDIA_URL_TTL_SECONDS: '0' }, /MEDIA_URL_TTL_SECONDS/],
    [{ JWT_KEYS_RELOAD_SECONDS: '0' }, /JWT_KEYS_RELOAD_SECONDS/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ])('refuses %o naming the variable', (env, pattern) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(pattern);
  });

  it('a bad value stops the real server with one line naming the variable', () => {
    for (const [name, value] of [['PORT', 'abc'], ['DATABASE_URL', 'mysql://x']]) {
      const result = spawnSync(process.execPath, [path.join(ROOT, 'src/main.ts')], {
        env: { ...process.env, [name]: value, DATA_DIR: '/nonexistent-never-created' },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(name);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
