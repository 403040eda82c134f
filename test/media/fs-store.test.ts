// The filesystem media store: durable writes that never leave a half file under the final name.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsMediaStore } from '../../src/store/media/fs.ts';
import { tempDir } from '../helpers/app.ts';

async function read(store: FsMediaStore, key: string): Promise<Buffer | undefined> {
  const object = await store.get(key);
  if (!object) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of object.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('FsMediaStore', () => {
  let root: string;
  let store: FsMediaStore;
  beforeEach(() => {
    root = tempDir('easel-media-');
    store = new FsMediaStore(path.join(root, 'media'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('writes into a directory it made before that someone has since removed', async () => {
    await store.put('ab/jan_x.png', Buffer.from('one'), 'image/png');
    fs.rmSync(path.join(root, 'media', 'ab'), { recursive: true });
    await store.put('ab/jan_y.png', Buffer.from('two'), 'image/png');
    expect((await read(store, 'ab/jan_y.png'))?.toString()).toBe('two');
  });

  it('puts, gets, lists and deletes', async () => {
    const bytes = Buffer.from('pretend png bytes');
    await store.put('ab/jan_x.png', bytes, 'image/png');
    const object = await store.get('ab/jan_x.png');
    expect(object?.bytes).toBe(bytes.length);
    object?.body.destroy();
    expect((await read(store, 'ab/jan_x.png'))?.equals(bytes)).toBe(true);
    const listed = [];
    for await (const entry of store.list()) listed.push(entry);
    expect(listed).toEqual([{ key: 'ab/jan_x.png', modifiedAt: expect.any(Number) }]);
    await store.delete('ab/jan_x.png');
    expect(await store.get('ab/jan_x.png')).toBeUndefined();
    // Deleting what is not there is not an error.
    await store.delete('ab/jan_x.png');
  });

  it('replaces a file whole and leaves no temporary file behind', async () => {
    await store.put('ab/jan_y.png', Buffer.from('first'), 'image/png');
    await store.put('ab/jan_y.png', Buffer.from('second, longer'), 'image/png');
    expect((await read(store, 'ab/jan_y.png'))?.toString()).toBe('second, longer');
    expect(filesUnder(path.join(root, 'media'))).toEqual(['ab/jan_y.png']);
  });

  it('a write that fails leaves nothing under the final name and no temporary file', async () => {
    // The final name is taken by a directory, so the rename at the end of the write fails.
    fs.mkdirSync(path.join(root, 'media', 'cd', 'jan_z.png'), { recursive: true });
    await expect(store.put('cd/jan_z.png', Buffer.from('bytes'), 'image/png')).rejects.toThrow();
    expect(fs.statSync(path.join(root, 'media', 'cd', 'jan_z.png')).isDirectory()).toBe(true);
    expect(filesUnder(path.join(root, 'media'))).toEqual([]);
  });

  it('refuses keys that could leave its directory', async () => {
    for (const key of ['../escape.png', 'ab/../../escape.png', '/etc/passwd', 'ab//x.png', 'x']) {
      await expect(store.put(key, Buffer.from('x'), 'image/png'), key).rejects.toThrow(/Invalid media key/);
    }
    expect(fs.existsSync(path.join(root, 'escape.png'))).toBe(false);
  });

  it('answers ping when its directory is writable', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    const blocked = new FsMediaStore(path.join(root, 'file-not-dir', 'media'));
    fs.writeFileSync(path.join(root, 'file-not-dir'), 'x');
    await expect(blocked.ping()).rejects.toThrow();
  });
});
