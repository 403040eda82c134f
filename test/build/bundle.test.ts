// The production bundle, as `npm start` runs it: build dist/easel.mjs, start `node dist/easel.mjs`, and check
// that what it loads from outside the bundle at run time is still found (the web app's files, Swagger UI's,
// sharp, and the lazily loaded S3 chunk, PostgreSQL and Redis clients).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, dropSchema, tempDir, testEnv } from '../helpers/app.ts';
import { deleteRedisKeys, redisPrefix } from '../helpers/redis.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';
import { ROOT, startServer, type ServerProcess } from '../helpers/server-process.ts';

const BUNDLE = 'dist/easel.mjs';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function call(server: ServerProcess, method: string, url: string, token?: string, body?: unknown) {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

async function guestToken(server: ServerProcess): Promise<string> {
  const login = await call(server, 'POST', '/auth/guest-login', undefined, {});
  expect(login.status).toBe(201);
  return login.json().access_token as string;
}

beforeAll(async () => {
  // `npm run build`, as `npm start` runs it first.
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'scripts/build.ts')], { cwd: ROOT, timeout: 60_000 });
}, 60_000);

describe('the bundle on the zero-config setup (SQLite, files, demo models)', () => {
  const dataDir = tempDir('easel-bundle-');
  let server: ServerProcess;
  let token: string;

  beforeAll(async () => {
    server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, { script: BUNDLE });
    token = await guestToken(server);
  });

  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is a launcher, one module and a chunk for the S3 store, with the web app beside them', () => {
    expect(fs.readFileSync(path.join(ROOT, BUNDLE), 'utf8')).toContain("import('./server.mjs')");
    expect(fs.readFileSync(path.join(ROOT, 'dist/server.mjs'), 'utf8')).toContain('import("./s3.mjs")');
    expect(fs.readFileSync(path.join(ROOT, 'dist/web/index.html'))).toEqual(fs.readFileSync(path.join(ROOT, 'src/web/index.html')));
  });

  it('serves the web page and its assets', async () => {
    const page = await call(server, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toBe(fs.readFileSync(path.join(ROOT, 'src/web/index.html'), 'utf8'));
    const script = await call(server, 'GET', '/assets/js/main.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = await call(server, 'GET', '/openapi.json');
    expect(doc.json().info.title).toBe('Easel');
    expect((await call(server, 'GET', '/docs/')).status).toBe(200);
    expect((await call(server, 'GET', '/docs/static/swagger-ui.css')).status).toBe(200);
  });

  it('answers a chat completion with the demo model', async () => {
    const res = await call(server, 'POST', '/v1/chat/completions', token, { model: 'easel-demo-chat', messages: [{ role: 'user', content: 'Say pineapple' }] });
    expect(res.status).toBe(200);
    expect(res.json().choices[0].message.content).toContain('pineapple');
  });

  it('checks itself healthy and ready', async () => {
    expect((await call(server, 'GET', '/healthz')).json()).toEqual({ status: 'ok' });
    expect((await call(server, 'GET', '/readyz')).status).toBe(200);
  });
});

describe('the bundle scaled out (PostgreSQL, S3, Redis)', () => {
  const prefix = redisPrefix();
  let s3: TestS3;
  let env: Record<string, string>;
  let server: ServerProcess;

  beforeAll(async () => {
    s3 = await startS3();
    env = testEnv('postgres', { ...s3.env, REDIS_URL, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'warn' });
    server = await startServer(env, { script: BUNDLE });
  });

  afterAll(async () => {
    await server?.stop();
    await s3?.stop();
    if (env?.DATABASE_SCHEMA) await dropSchema(env.DATABASE_SCHEMA);
    await deleteRedisKeys(prefix);
    if (env?.DATA_DIR) fs.rmSync(env.DATA_DIR, { recursive: true, force: true });
  });

  it('reaches every store', async () => {
    const ready = await call(server, 'GET', '/readyz');
    expect(ready.json()).toEqual({ status: 'ok', checks: { database: { status: 'ok' }, media: { status: 'ok' }, redis: { status: 'ok' } } });
  });

  it('makes an image with the demo model (sharp), stores it in the bucket and serves its signed URL', async () => {
    const token = await guestToken(server);
    const made = await call(server, 'POST', '/v1/images/generations', token, { prompt: 'a fox', size: '512x512', response_format: 'url' });
    expect(made.status).toBe(200);
    const image = await fetch(made.json().data[0].url);
    expect(image.status).toBe(200);
    expect(Buffer.from(await image.arrayBuffer()).subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });
});

describe('npm start', () => {
  const dataDir = tempDir('easel-npm-start-');
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  // A process manager stops `npm start` with SIGTERM to npm: the server must get it and shut down gracefully,
  // not be left running on its port without npm (as it was while the script ran the server under a shell).
  it('builds, serves, and hands SIGTERM on to the server', async () => {
    const npm = process.env.npm_execpath;
    const command: [string, ...string[]] = npm ? [process.execPath, npm, 'start'] : ['npm', 'start'];
    const server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'info' }, { command, timeoutMs: 60_000 });
    expect((await call(server, 'GET', '/healthz')).status).toBe(200);
    await server.stop('SIGTERM');
    expect(await refusedWithin(server.url, 10_000)).toBe(true);
    expect(server.output()).toContain('"msg":"shutting down"');
  }, 90_000);
});

/** Whether the server's port stops taking connections within `ms`. */
async function refusedWithin(url: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      await fetch(`${url}/healthz`);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
