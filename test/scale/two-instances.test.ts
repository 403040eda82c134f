// Two real server processes on one PostgreSQL schema, one S3 bucket (s3rver) and one Redis: whichever
// instance a request reaches, the user, conversation, image, token and rate limit are the same.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { S3MediaStore } from '../../src/store/media/s3.ts';
import { REDIS_URL, dropSchema, tempDir, testEnv } from '../helpers/app.ts';
import { deleteRedisKeys, redisKeys, redisPrefix } from '../helpers/redis.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('two instances behind one database, bucket and Redis', () => {
  const prefix = redisPrefix();
  let s3: TestS3;
  let env: Record<string, string>;
  let a: ServerProcess;
  let b: ServerProcess;
  const dataDirs: string[] = [];

  beforeAll(async () => {
    s3 = await startS3();
    env = testEnv('postgres', {
      ...s3.env,
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      RATE_LIMIT_IMAGES: '3/min',
      LOG_LEVEL: 'warn',
    });
    const own = () => {
      const dir = tempDir();
      dataDirs.push(dir);
      return { ...env, DATA_DIR: dir };
    };
    // One after the other, as a rolling deploy does; simultaneous starts are covered by shared-secrets.test.ts.
    a = await startServer(own());
    b = await startServer(own());
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await s3?.stop();
    if (env?.DATABASE_SCHEMA) await dropSchema(env.DATABASE_SCHEMA);
    await deleteRedisKeys(prefix);
    for (const dir of [...dataDirs, env?.DATA_DIR]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = async (server: ServerProcess, method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };

  /** The same signed path, asked of another instance. */
  const on = (server: ServerProcess, url: string) => {
    const { pathname, search } = new URL(url);
    return `${server.url}${pathname}${search}`;
  };

  it('serves one user\'s session across both instances', async () => {
    // Guest login on A.
    const login = await call(a, 'POST', '/auth/guest-login', undefined, {});
    expect(login.status).toBe(201);
    const { access_token: token, refresh_token: refreshToken, user_id: userId } = login.body;

    // A conversation created on B with A's token.
    const conversation = await call(b, 'POST', '/v1/conversations', token, { title: 'Two instances' });
    expect(conversation.status).toBe(200);
    const conversationId = conversation.body.id;

    // An image generated on A into that conversation, stored in the bucket.
    const generated = await call(a, 'POST', '/v1/images/generations', token, {
      prompt: 'a lighthouse at dusk',
      model: 'easel-demo-image',
      size: '512x512',
      conversation_id: conversationId,
      store: true,
    });
    expect(generated.status).toBe(200);
    const [image] = generated.body.data;
    expect(image.id).toMatch(/^jan_[0-9a-z]{26}$/);

    const keys: string[] = [];
    const media = loadConfig(s3.env).media;
    if (media.store !== 's3') throw new Error('expected the s3 store');
    const bucket = new S3MediaStore(media.s3);
    for await (const entry of bucket.list()) keys.push(entry.key);
    bucket.destroy();
    expect(keys.some((key) => key.endsWith(`/${image.id}.png`))).toBe(true);

    // A's signed URL, fetched from B: the same bytes A serves.
    const fromB = await fetch(on(b, image.url));
    expect(fromB.status).toBe(200);
    expect(fromB.headers.get('content-type')).toBe('image/png');
    const bytesFromB = Buffer.from(await fromB.arrayBuffer());
    expect(bytesFromB.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const bytesFromA = Buffer.from(await (await fetch(image.url)).arrayBuffer());
    expect(bytesFromB.equals(bytesFromA)).toBe(true);
    // A tampered signature is refused on B just as on A.
    expect((await fetch(on(b, image.url).replace(/sig=[^&]+/, 'sig=AAAA'))).status).toBe(403);

    // The conversation's items, listed on B, hold the prompt and the image with a URL B signed.
    const items = await call(b, 'GET', `/v1/conversations/${conversationId}/items?order=asc`, token);
    expect(items.status).toBe(200);
    expect(items.body.data).toHaveLength(2);
    const [prompt, imageCall] = items.body.data;
    expect(prompt).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a lighthouse at dusk' }] });
    expect(imageCall).toMatchObject({ type: 'image_generation_call', status: 'completed', images: [{ id: image.id }] });
    const urlSignedByB = imageCall.images[0].url as string;
    expect(urlSignedByB.startsWith(b.url)).toBe(true);
    expect((await fetch(on(a, urlSignedByB))).status).toBe(200);

    // The refresh token from A's login is exchanged on B, once; the new access token works on A.
    const refreshed = await call(b, 'POST', '/auth/refresh-token', undefined, { refresh_token: refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.user_id).toBe(userId);
    expect((await call(a, 'POST', '/auth/refresh-token', undefined, { refresh_token: refreshToken })).status).toBe(401);
    const me = await call(a, 'GET', '/auth/me', refreshed.body.access_token);
    expect(me.status).toBe(200);
    expect(me.body.user_id).toBe(userId);
    expect((await call(a, 'GET', `/v1/conversations/${conversationId}`, refreshed.body.access_token)).status).toBe(200);
  });

  it('reaches a per-user rate limit with requests spread over both instances', async () => {
    const login = await call(b, 'POST', '/auth/guest-login', undefined, {});
    const { access_token: token, user_id: userId } = login.body;
    const generate = (server: ServerProcess) =>
      call(server, 'POST', '/v1/images/generations', token, { prompt: 'a small red square', model: 'easel-demo-image', size: '512x512', store: false });

    expect((await generate(a)).status).toBe(200);
    expect((await generate(b)).status).toBe(200);
    const third = await generate(a);
    expect(third.status).toBe(200);
    expect(third.headers.get('x-ratelimit-remaining-requests')).toBe('0');

    for (const server of [b, a]) {
      const refused = await generate(server);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({
        error: { message: expect.stringContaining('3/min'), type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' },
      });
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect(await redisKeys(prefix)).toContain(`${prefix}rl:images:user:${userId}`);
  });

  it('reports every shared dependency as ready on both', async () => {
    for (const server of [a, b]) {
      const ready = await call(server, 'GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ok', checks: { database: { status: 'ok' }, media: { status: 'ok' }, redis: { status: 'ok' } } });
    }
  });
});
