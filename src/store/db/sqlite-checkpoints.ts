// WAL checkpoints on a thread of their own. By default SQLite checkpoints inside the commit that takes the
// WAL past 1,000 pages: it copies those pages into the database and fsyncs twice, several milliseconds on
// the event loop every few hundred chat turns, charged to every request queued behind it (the full path's
// p99). Here a worker thread with its own connection checkpoints every 100 ms, and the server's connection
// only once the WAL has grown past a bound (see maxWalBytes), when nearly all of it is already copied.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

export interface CheckpointOptions {
  /** How often the worker looks for new commits to checkpoint. */
  intervalMs: number;
  /**
   * PASSIVE checkpoints never hold up a writer, but the WAL only restarts from its beginning when a write
   * finds everything checkpointed, which a steady stream of commits (each landing while the worker copies)
   * can postpone indefinitely. Past this size the server's connection checkpoints after its commit, as
   * SQLite does by default: the worker has copied all but the last moments' pages, so that is short, and
   * the next write starts the WAL over. (A TRUNCATE checkpoint from the worker instead made the event loop
   * wait on the lock, 10-35 ms at a time, in SQLite's busy handler.) The file is also cut back to this size.
   */
  maxWalBytes: number;
}

export const CHECKPOINT_DEFAULTS: CheckpointOptions = { intervalMs: 100, maxWalBytes: 64 * 2 ** 20 };

/** SQLite's own default, restored should the worker fail. */
const AUTOCHECKPOINT_PAGES = 1000;
const STOP_TIMEOUT_MS = 5000;

// Evaluated as a script (no file of its own: it also runs from a bundle); better-sqlite3 comes by path.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
let seen;
const timer = setInterval(() => {
  // data_version changes when another connection has committed since this one last asked.
  const version = db.pragma('data_version', { simple: true });
  if (version === seen) return;
  seen = version;
  db.pragma('wal_checkpoint(PASSIVE)');
}, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface BackgroundCheckpoints {
  /** Stops the worker (the connection's own close then checkpoints what is left). */
  stop(): Promise<void>;
}

/** Moves `sqlite`'s (a WAL-mode connection to `file`) checkpoints to a worker thread. */
export function checkpointInBackground(sqlite: SQLite.Database, file: string, options: CheckpointOptions = CHECKPOINT_DEFAULTS): BackgroundCheckpoints {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, ...options } });
  worker.unref();
  const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
  sqlite.pragma(`wal_autocheckpoint = ${Math.max(1, Math.ceil(options.maxWalBytes / pageSize))}`);
  sqlite.pragma(`journal_size_limit = ${options.maxWalBytes}`);
  let running = true;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.once('error', () => {
    // The WAL must not grow without end: the connection checkpoints itself again.
    running = false;
    if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  });
  return {
    async stop() {
      if (!running) return;
      running = false;
      worker.postMessage('stop');
      const timeout = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timeout);
    },
  };
}
