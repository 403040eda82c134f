// The server's sweeper removes media files that no media row points at once they are older than the grace
// period, and nothing else: a file with its row stays however old, a young orphan (its row may be on its
// way) stays too. It runs when the server starts and then periodically.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, dropSchema, startApp, testEnv, type TestApp } from '../helpers/app.ts';
import { startServer } from '../helpers/server-process.ts';
import { Sweeper } from '../../src/services/sweeper.ts';

const HOUR_MS = 3_600_000;
const quiet = { info: () => undefined, error: () => undefined };

/** A file under the media directory, with its modification time set `ageMs` in the past. */
function writeAged(mediaDir: string, key: string, ageMs: number): string {
  const file = path.join(mediaDir, key);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'not really an image');
  age(file, ageMs);
  return file;
}

function age(file: string, ageMs: number): void {
  const when = new Date(Date.now() - ageMs);
  fs.utimesSync(file, when, when);
}

describe.each(DATABASES)('media sweeper on %s', (kind) => {
  let t: TestApp;
  let mediaDir: string;

  beforeAll(async () => {
    t = await startApp(kind);
    mediaDir = path.join(t.env.DATA_DIR!, 'media');
  });
  afterAll(() => t.close());

  it('deletes an old orphan and keeps referenced files and young orphans', async () => {
    const guest = await t.guest();
    const generated = await t.as(guest.token, { method: 'POST', url: '/v1/images/generations', payload: { prompt: 'kept', size: '512x512' } });
    expect(generated.statusCode).toBe(200);
    const id = generated.json().data[0].id as string;
    const row = await t.container.db.kysely.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const referenced = path.join(mediaDir, row.storage_key);
    age(referenced, 48 * HOUR_MS);
    const oldOrphan = writeAged(mediaDir, 'zz/jan_01aaaaaaaaaaaaaaaaaaaaaazz.png', 2 * HOUR_MS);
    const youngOrphan = writeAged(mediaDir, 'zy/jan_01aaaaaaaaaaaaaaaaaaaaaazy.png', 10 * 60_000);

    const sweeper = new Sweeper(
      { store: t.container.mediaStore, db: t.container.db.kysely, idempotency: t.container.idempotency, log: quiet },
      { intervalMs: 0, mediaGraceMs: HOUR_MS },
    );
    const result = await sweeper.sweep();

    expect(result.media).toMatchObject({ orphans: 1, deleted: 1, failed: 0 });
    expect(fs.existsSync(oldOrphan)).toBe(false);
    expect(fs.existsSync(referenced)).toBe(true);
    expect(fs.existsSync(youngOrphan)).toBe(true);
    const served = await t.as(guest.token, { method: 'GET', url: `/v1/media/${id}` });
    expect(served.statusCode).toBe(200);
  });
});

describe('the server sweeps on start', () => {
  const env = testEnv('sqlite', { LOG_LEVEL: 'warn' });
  const mediaDir = path.join(env.DATA_DIR!, 'media');
  afterAll(async () => {
    if (env.DATABASE_SCHEMA) await dropSchema(env.DATABASE_SCHEMA);
    fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  it('removes an orphan left by an earlier run, and keeps the images that have rows', async () => {
    let server = await startServer(env);
    const login = await (await fetch(`${server.url}/auth/guest-login`, { method: 'POST' })).json();
    const headers = { authorization: `Bearer ${login.access_token}`, 'content-type': 'application/json' };
    const image = await (await fetch(`${server.url}/v1/images/generations`, { method: 'POST', headers, body: JSON.stringify({ prompt: 'kept', size: '512x512' }) })).json();
    expect(await server.stop()).toBe(0);

    const files = fs.readdirSync(mediaDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
    expect(files).toHaveLength(1);
    age(files[0]!, 48 * HOUR_MS);
    const orphan = writeAged(mediaDir, 'zz/jan_01aaaaaaaaaaaaaaaaaaaaaazz.png', 2 * HOUR_MS);

    server = await startServer(env);
    try {
      // The sweep on start runs in the background: wait for it to take the orphan.
      const deadline = Date.now() + 10_000;
      while (fs.existsSync(orphan) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(fs.existsSync(orphan)).toBe(false);
      expect(fs.existsSync(files[0]!)).toBe(true);
      const served = await fetch(`${server.url}/v1/media/${image.data[0].id}`, { headers });
      expect(served.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
