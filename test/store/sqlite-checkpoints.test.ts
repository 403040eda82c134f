// SQLite's WAL is checkpointed by a worker thread, not inside the server's commits.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/store/db/database.ts';
import { checkpointInBackground, type BackgroundCheckpoints } from '../../src/store/db/sqlite-checkpoints.ts';
import { tempDir } from '../helpers/app.ts';

describe('SQLite checkpoints in the background', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function walConnection(): { sqlite: SQLite.Database; file: string } {
    const dir = tempDir();
    const file = path.join(dir, 'test.db');
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.exec('create table t (id integer primary key, body text not null)');
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    return { sqlite, file };
  }

  function started(sqlite: SQLite.Database, checkpoints: BackgroundCheckpoints): void {
    cleanups.push(async () => {
      await checkpoints.stop();
      sqlite.close();
    });
  }

  const write = (sqlite: SQLite.Database, rows: number) => {
    const insert = sqlite.prepare('insert into t (body) values (?)');
    sqlite.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run('x'.repeat(1000));
    })();
  };
  const size = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);

  it('leaves the server connection to checkpoint only past the bound, and copies its commits into the database file', async () => {
    const { sqlite, file } = walConnection();
    started(sqlite, checkpointInBackground(sqlite, file, { intervalMs: 20, maxWalBytes: 64 * 2 ** 20 }));
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe((64 * 2 ** 20) / 4096);
    const before = size(file);
    write(sqlite, 2000);
    // Only a checkpoint moves pages from the WAL into the database file.
    await vi.waitFor(() => expect(size(file)).toBeGreaterThan(before + 1_000_000), { timeout: 5000 });
  });

  it('keeps the WAL near its bound under a steady stream of commits', async () => {
    const { sqlite, file } = walConnection();
    started(sqlite, checkpointInBackground(sqlite, file, { intervalMs: 20, maxWalBytes: 200_000 }));
    let largest = 0;
    for (let i = 0; i < 200; i++) {
      write(sqlite, 20);
      largest = Math.max(largest, size(`${file}-wal`));
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // 200 commits of ~24 KB each: 4.8 MB written through a WAL that stayed within a few times its bound.
    expect(largest).toBeLessThan(1_000_000);
    expect(sqlite.prepare('select count(*) from t').pluck().get()).toBe(4000);
  });

  it('hands checkpoints back to the connection when the worker fails', async () => {
    const { sqlite } = walConnection();
    // A directory is no database: the worker cannot open it.
    started(sqlite, checkpointInBackground(sqlite, tempDir(), { intervalMs: 20, maxWalBytes: 100_000 }));
    await vi.waitFor(() => expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1000), { timeout: 5000 });
  });

  it('is how openDatabase runs SQLite, and close() leaves no WAL behind', async () => {
    const dir = tempDir();
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'easel.db');
    const db = await openDatabase({ kind: 'sqlite', file });
    const before = size(file);
    await db.kysely.insertInto('users').values(Array.from({ length: 2000 }, (_, i) => ({ id: `u${i}`, username: `user-${i}-${'x'.repeat(500)}`, kind: 'guest' as const, created_at: i }))).execute();
    await vi.waitFor(() => expect(size(file)).toBeGreaterThan(before + 500_000), { timeout: 5000 });
    await db.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });
});
