// Media bytes as files under one directory. A write goes to a temporary file that is fsynced and then
// renamed, so a crash never leaves a half-written file under the final name.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { MediaStore, StoredObject } from './media-store.ts';

/** Keys are our own (`ab/jan_….png`); anything else, above all `..`, is refused. */
const KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*(\.[A-Za-z0-9]+)+$/;
const TEMP_SUFFIX = '.tmp';

export class FsMediaStore implements MediaStore {
  readonly kind = 'fs' as const;
  private readonly root: string;
  /** Directories known to exist: a mkdir per write costs more than the rest of the bookkeeping. */
  private readonly made = new Set<string>();

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  private pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error(`Invalid media key: ${JSON.stringify(key)}`);
    return path.join(this.root, key);
  }

  async put(key: string, bytes: Buffer, _mime: string): Promise<void> {
    const final = this.pathOf(key);
    const dir = path.dirname(final);
    const temp = `${final}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    try {
      const handle = await this.create(temp, dir);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(temp, final);
    } catch (error) {
      await fsp.rm(temp, { force: true });
      throw error;
    }
    await syncDir(dir);
  }

  /** Opens a new file, making its directory the first time (and again if someone removed it since). */
  private async create(file: string, dir: string): Promise<fsp.FileHandle> {
    if (!this.made.has(dir)) {
      await fsp.mkdir(dir, { recursive: true });
      this.made.add(dir);
    }
    try {
      return await fsp.open(file, 'wx', 0o640);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await fsp.mkdir(dir, { recursive: true });
      return fsp.open(file, 'wx', 0o640);
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const file = this.pathOf(key);
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const { size } = await handle.stat();
    return { body: handle.createReadStream(), bytes: size };
  }

  async delete(key: string): Promise<void> {
    await fsp.rm(this.pathOf(key), { force: true });
  }

  async *list(): AsyncIterable<{ key: string; modifiedAt: number }> {
    const walk = async function* (dir: string): AsyncIterable<string> {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) yield* walk(full);
        else if (entry.isFile()) yield full;
      }
    };
    for await (const file of walk(this.root)) {
      const stat = await fsp.stat(file).catch(() => undefined);
      if (stat) yield { key: path.relative(this.root, file).split(path.sep).join('/'), modifiedAt: stat.mtimeMs };
    }
  }

  async ping(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
    await fsp.access(this.root, fs.constants.W_OK);
  }
}

/** Makes the rename itself durable; some platforms cannot fsync a directory, which is harmless. */
async function syncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close();
  }
}
