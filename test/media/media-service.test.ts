// The media service: real types only, the size limit, sha256, and bytes written before the row.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { countRows, GIF, jpeg, png } from '../images/support.ts';
import { MediaService } from '../../src/services/media.ts';
import { MediaRepository } from '../../src/store/db/repositories/media.ts';
import { FsMediaStore } from '../../src/store/media/fs.ts';

async function storedKeys(t: TestApp): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of t.container.mediaStore.list!()) keys.push(entry.key);
  return keys;
}

describe.each(DATABASES)('the media service on %s', (kind) => {
  let t: TestApp;
  let alice: Guest;
  beforeAll(async () => {
    t = await startApp(kind, { MAX_IMAGE_BYTES: '4096' });
    alice = await t.guest();
  });
  afterAll(() => t.close());

  it('keeps PNG and JPEG with their sniffed type, size and sha256', async () => {
    const images = [await png(8, 8), await jpeg(8, 8)];
    const saved = await t.container.media.saveAll(alice.userId, images);
    expect(saved.map((m) => m.mime)).toEqual(['image/png', 'image/jpeg']);
    for (const [i, media] of saved.entries()) {
      const row = await t.container.media.own(alice.userId, media.id);
      expect(row).toMatchObject({ user_id: alice.userId, mime: media.mime, bytes: images[i]!.length, sha256: createHash('sha256').update(images[i]!).digest('hex') });
      expect(row.storage_key).toMatch(new RegExp(`/${media.id}\\.(png|jpg)$`));
    }
  });

  it('refuses other types and oversized images, keeping nothing of the batch', async () => {
    const rows = await countRows(t, 'media');
    const keys = await storedKeys(t);
    await expect(t.container.media.saveAll(alice.userId, [await png(8, 8), GIF])).rejects.toMatchObject({ status: 400, param: 'image[1]' });
    await expect(t.container.media.saveAll(alice.userId, [Buffer.concat([await png(8, 8), Buffer.alloc(5000)])])).rejects.toMatchObject({ status: 413 });
    expect(await countRows(t, 'media')).toBe(rows);
    expect(await storedKeys(t)).toEqual(keys);
  });

  it('removes the written bytes when the row cannot be written', async () => {
    const keys = await storedKeys(t);
    // No such user: the foreign key refuses the row after the bytes are on disk.
    await expect(t.container.media.saveAll('guest-nobody', [await png(8, 8)])).rejects.toThrow();
    expect(await storedKeys(t)).toEqual(keys);
  });

  it('writes no row when the bytes cannot be written', async () => {
    // The store's directory would have to be inside a plain file: every write fails.
    const file = path.join(t.env.DATA_DIR!, 'not-a-directory');
    fs.writeFileSync(file, 'x');
    const broken = new MediaService({ store: new FsMediaStore(path.join(file, 'media')), repository: new MediaRepository(t.container.db.kysely), maxImageBytes: 4096 });
    const rows = await countRows(t, 'media');
    await expect(broken.saveAll(alice.userId, [await png(8, 8)])).rejects.toThrow();
    expect(await countRows(t, 'media')).toBe(rows);
  });
});
