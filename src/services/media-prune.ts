// Finds media files no media row points at (a crash between writing the bytes and recording the row, an
// interrupted cleanup) and deletes them. Only files older than a grace period are touched, so an image
// whose row is being written right now is never taken for an orphan.
import type { Kysely } from 'kysely';
import type { Database } from '../store/db/schema.ts';
import type { MediaStore } from '../store/media/media-store.ts';

const BATCH = 500;

export interface PruneOptions {
  /** Files modified less than this long ago are left alone. */
  graceMs: number;
  /** Report what would go, delete nothing. */
  dryRun?: boolean;
  now?: number;
  /** Called for each orphan, before it is deleted. */
  onOrphan?: (key: string) => void;
  /** Called when an orphan could not be deleted; pruning goes on with the rest. */
  onError?: (key: string, error: unknown) => void;
}

export interface PruneResult {
  /** Files listed in the store. */
  scanned: number;
  /** Files old enough and referenced by no row. */
  orphans: number;
  deleted: number;
  /** Orphans whose deletion failed. */
  failed: number;
}

export async function pruneOrphanMedia(deps: { store: MediaStore; db: Kysely<Database> }, options: PruneOptions): Promise<PruneResult> {
  const { store, db } = deps;
  if (!store.list) throw new Error(`The ${store.kind} media store cannot list its files, so it cannot be pruned`);
  const cutoff = (options.now ?? Date.now()) - options.graceMs;
  const result: PruneResult = { scanned: 0, orphans: 0, deleted: 0, failed: 0 };
  let batch: string[] = [];

  const settle = async () => {
    const known = await referencedKeys(db, batch);
    for (const key of batch) {
      if (known.has(key)) continue;
      result.orphans++;
      options.onOrphan?.(key);
      if (options.dryRun) continue;
      try {
        await store.delete(key);
        result.deleted++;
      } catch (error) {
        // One file the store will not delete (a stray name, a permission) must not stop the sweep.
        result.failed++;
        options.onError?.(key, error);
      }
    }
    batch = [];
  };

  for await (const { key, modifiedAt } of store.list()) {
    result.scanned++;
    if (modifiedAt >= cutoff) continue;
    batch.push(key);
    if (batch.length >= BATCH) await settle();
  }
  if (batch.length > 0) await settle();
  return result;
}

async function referencedKeys(db: Kysely<Database>, keys: string[]): Promise<Set<string>> {
  const rows = await db.selectFrom('media').select('storage_key').where('storage_key', 'in', keys).execute();
  return new Set(rows.map((r) => r.storage_key));
}
