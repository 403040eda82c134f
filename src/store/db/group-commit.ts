// Group commit: writes submitted in the same event-loop turn share one transaction, so a busy server pays
// BEGIN/COMMIT (and on SQLite the WAL write of the pages they touch) once per turn instead of once per write.
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Writes every entry of a group inside `trx`, in the order given. */
export type GroupWriter<T> = (trx: Kysely<Database>, entries: T[]) => Promise<void>;

interface Pending<T> {
  entry: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<T> {
  private readonly db: Kysely<Database>;
  private readonly write: GroupWriter<T>;
  private pending: Array<Pending<T>> = [];

  constructor(db: Kysely<Database>, write: GroupWriter<T>) {
    this.db = db;
    this.write = write;
  }

  /** Resolves once the entry is committed; rejects with its own error only (see flush). */
  submit(entry: T): Promise<void> {
    return new Promise((resolve, reject) => {
      // setImmediate runs after the I/O callbacks of this turn: every write they submit joins the group.
      if (this.pending.length === 0) setImmediate(() => void this.flush());
      this.pending.push({ entry, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const group = this.pending;
    this.pending = [];
    try {
      await this.commit(group.map((p) => p.entry));
      for (const p of group) p.resolve();
    } catch (error) {
      if (group.length === 1) return group[0]!.reject(error);
      // One bad entry (say, its conversation was deleted meanwhile) must not fail the others: the group's
      // transaction rolled back whole, so each entry is tried again alone, in order, and fails or lands alone.
      for (const p of group) {
        try {
          await this.commit([p.entry]);
          p.resolve();
        } catch (own) {
          p.reject(own);
        }
      }
    }
  }

  private commit(entries: T[]): Promise<void> {
    return this.db.transaction().execute((trx) => this.write(trx, entries));
  }
}
