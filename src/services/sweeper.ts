// The server's periodic housekeeping, on start and every interval: media files no row points at (a crash
// between writing the bytes and recording the row; see media-prune.ts, shared with `easel media prune`)
// and expired idempotency keys. One sweep at a time; a failing sweep is logged and the next one tries again.
import type { Kysely } from 'kysely';
import type { Database } from '../store/db/schema.ts';
import type { MediaStore } from '../store/media/media-store.ts';
import type { IdempotencyService } from './idempotency.ts';
import { pruneOrphanMedia, type PruneResult } from './media-prune.ts';

export interface SweepLog {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface SweepResult {
  /** Undefined when the media store cannot list its files. */
  media?: PruneResult;
  expiredIdempotencyKeys: number;
}

export class Sweeper {
  private readonly deps: { store: MediaStore; db: Kysely<Database>; idempotency: IdempotencyService; log: SweepLog };
  private readonly options: { intervalMs: number; mediaGraceMs: number };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    deps: { store: MediaStore; db: Kysely<Database>; idempotency: IdempotencyService; log: SweepLog },
    options: { intervalMs: number; mediaGraceMs: number },
  ) {
    this.deps = deps;
    this.options = options;
  }

  /** One sweep now; a sweep already running is joined rather than doubled. */
  sweep(): Promise<SweepResult> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running as Promise<SweepResult>;
  }

  /** Sweeps now and then every interval (an interval of 0 turns it off). */
  start(): void {
    if (this.options.intervalMs <= 0 || this.timer) return;
    const tick = () => void this.sweep().catch((error: unknown) => this.deps.log.error({ err: error }, 'sweep failed'));
    tick();
    this.timer = setInterval(tick, this.options.intervalMs);
    // Housekeeping never keeps the process alive on its own.
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep under way, so the database is not closed beneath it. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async run(): Promise<SweepResult> {
    const { store, db, idempotency, log } = this.deps;
    const result: SweepResult = { expiredIdempotencyKeys: await idempotency.deleteExpired() };
    if (store.list) {
      result.media = await pruneOrphanMedia({ store, db }, {
        graceMs: this.options.mediaGraceMs,
        onError: (key, error) => log.error({ err: error, key }, 'could not delete an orphaned media file'),
      });
    }
    if (result.expiredIdempotencyKeys > 0 || (result.media?.orphans ?? 0) > 0) {
      log.info({ orphanedMediaDeleted: result.media?.deleted ?? 0, expiredIdempotencyKeys: result.expiredIdempotencyKeys }, 'sweep done');
    }
    return result;
  }
}
