import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { DATABASES, startApp, tempDir, type TestApp } from '../helpers/app.ts';
import { FsMediaStore } from '../../src/store/media/fs.ts';
import type { MediaStore } from '../../src/store/media/media-store.ts';
import { pruneOrphanMedia } from '../../src/services/media-prune.ts';

const HOUR = 3_600_000;

describe.each(DATABASES)('media prune on %s', (kind) => {
  let t: TestApp;
  let dir: string;
  let store: FsMediaStore;
  let userId: string;

  beforeAll(async () => {
    t = await startApp(kind);
    userId = (await t.guest()).userId;
    dir = tempDir('easel-prune-');
    store = new FsMediaStore(dir);
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function file(key: string, ageHours: number): void {
    fs.mkdirSync(path.dirname(path.join(dir, key)), { recursive: true });
    fs.writeFileSync(path.join(dir, key), 'bytes');
    const when = new Date(Date.now() - ageHours * HOUR);
    fs.utimesSync(path.join(dir, key), when, when);
  }
  const row = (id: string, key: string) =>
    t.container.db.kysely.insertInto('media').values({ id, user_id: userId, mime: 'image/png', bytes: 5, sha256: 'x', storage_key: key, created_at: Date.now() }).execute();
  const exists = (key: string) => fs.existsSync(path.join(dir, key));

  it('deletes old files with no row, keeps files with a row and files still in their grace period', async () => {
    // More than one batch of keys to look up.
    const orphans = Array.from({ length: 510 }, (_, i) => `o${i % 7}/jan_orphan_${String(i).padStart(4, '0')}.png`);
    for (const key of orphans) file(key, 30);
    file('kk/jan_kept.png', 30);
    await row('jan_kept', 'kk/jan_kept.png');
    file('ff/jan_fresh.png', 0);

    const seen: string[] = [];
    const dry = await pruneOrphanMedia({ store, db: t.container.db.kysely }, { graceMs: 24 * HOUR, dryRun: true, onOrphan: (k) => seen.push(k) });
    expect(dry).toEqual({ scanned: 512, orphans: 510, deleted: 0, failed: 0 });
    expect(seen.sort()).toEqual([...orphans].sort());
    expect(orphans.every(exists)).toBe(true);

    const real = await pruneOrphanMedia({ store, db: t.container.db.kysely }, { graceMs: 24 * HOUR });
    expect(real).toEqual({ scanned: 512, orphans: 510, deleted: 510, failed: 0 });
    expect(orphans.some(exists)).toBe(false);
    expect(exists('kk/jan_kept.png')).toBe(true);
    expect(exists('ff/jan_fresh.png')).toBe(true);
  });

  it('goes on past a file it cannot delete, and says which', async () => {
    const failing: MediaStore = {
      kind: 'fs',
      put: async () => {},
      get: async () => undefined,
      ping: async () => {},
      async *list() {
        yield { key: 'a/bad.png', modifiedAt: 0 };
        yield { key: 'a/good.png', modifiedAt: 0 };
      },
      delete: async (key) => {
        if (key === 'a/bad.png') throw new Error('permission denied');
      },
    };
    const errors: string[] = [];
    const result = await pruneOrphanMedia({ store: failing, db: t.container.db.kysely }, { graceMs: HOUR, onError: (k) => errors.push(k) });
    expect(result).toEqual({ scanned: 2, orphans: 2, deleted: 1, failed: 1 });
    expect(errors).toEqual(['a/bad.png']);
  });

  it('refuses a store that cannot list its files', async () => {
    const unlistable: MediaStore = { kind: 's3', put: async () => {}, get: async () => undefined, delete: async () => {}, ping: async () => {} };
    await expect(pruneOrphanMedia({ store: unlistable, db: t.container.db.kysely }, { graceMs: HOUR })).rejects.toThrow(/cannot list/);
  });
});
