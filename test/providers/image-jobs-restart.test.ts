// An async image job outlives the process: submitted to a slow provider, the server is stopped while the
// job runs; started again on the same data, it picks the job up, finishes it, and the images are in the
// conversation. Runs the real server (node src/main.ts) on SQLite and PostgreSQL.
import fs from 'node:fs';
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, dropSchema, testEnv } from '../helpers/app.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { NO_IMAGE_LIMIT, png, type RecordedRequest, type Upstream } from '../images/support.ts';
import { answerImages, generations, imageUpstream, providersFile, until } from './support.ts';

describe.each(DATABASES)('an async image job across a restart on %s', (kind) => {
  let upstream: Upstream;
  let image: Buffer;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    image = await png(20, 20, '#118877');
    upstream = await imageUpstream(image);
    const file = providersFile(`
providers:
  - { name: slow-sd, kind: image, base_url: "${upstream.origin}/v1", timeout_seconds: 600, models: [sdxl] }
`);
    env = testEnv(kind, { ...NO_IMAGE_LIMIT, EASEL_PROVIDERS: file });
  });
  afterAll(async () => {
    await server?.stop();
    await upstream.close();
    if (env.DATABASE_SCHEMA) await dropSchema(env.DATABASE_SCHEMA);
    fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  const call = async (path: string, token: string, init: { method?: string; body?: object; headers?: Record<string, string> } = {}) => {
    const res = await fetch(`${server!.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };

  it('is picked up again at start and completes, its images landing in the conversation', async () => {
    // The provider takes the first request and never answers it.
    const pending: http.ServerResponse[] = [];
    upstream.handler = (_req: RecordedRequest, res: http.ServerResponse) => void pending.push(res);

    server = await startServer(env);
    const login = await fetch(`${server.url}/auth/guest-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const token = ((await login.json()) as { access_token: string }).access_token;
    const conv = (await call('/v1/conversations', token, { method: 'POST', body: { title: 'slow pictures' } })).body.id;
    const submitted = await call('/v1/images/generations', token, {
      method: 'POST',
      headers: { prefer: 'respond-async' },
      body: { prompt: 'a lighthouse in fog', size: '1024x1024', conversation_id: conv },
    });
    expect(submitted.status).toBe(202);
    const jobId = submitted.body.id;
    await until(() => (pending.length === 1 ? true : undefined), 'the job to reach the provider');
    expect((await call(`/v1/images/jobs/${jobId}`, token)).body.status).toBe('running');

    expect(await server.stop()).toBe(0);
    server = undefined;
    for (const res of pending) res.destroy();
    upstream.handler = answerImages(image);

    server = await startServer(env);
    const job = await until(async () => {
      const read = (await call(`/v1/images/jobs/${jobId}`, token)).body;
      return read.status === 'succeeded' || read.status === 'failed' ? read : undefined;
    }, 'the job to finish after the restart');
    expect(job).toMatchObject({ status: 'succeeded', model: 'sdxl', size: '1024x1024' });
    expect(job.data).toHaveLength(1);
    // Once before the stop, once after: the job ran again, and only once more.
    expect(generations(upstream)).toHaveLength(2);
    const bytes = Buffer.from(await (await fetch(job.data[0].url.replace(/^https?:\/\/[^/]+/, server.url))).arrayBuffer());
    expect(bytes.equals(image)).toBe(true);

    const items = (await call(`/v1/conversations/${conv}/items?order=asc`, token)).body.data;
    expect(items.map((i: { type: string }) => i.type)).toEqual(['message', 'image_generation_call']);
    expect(items[1]).toMatchObject({ prompt: 'a lighthouse in fog', model: 'sdxl', images: [{ id: job.data[0].id }] });
  });
});
