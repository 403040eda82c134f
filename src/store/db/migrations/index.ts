// One list of migrations for both databases; a migration may branch on the dialect where SQL differs.
import type { Kysely } from 'kysely';
import { Migrator, type MigrationProvider } from 'kysely/migration';
import type { Dialect } from '../database.ts';
import { initial } from './0001_initial.ts';
import { apiKeys } from './0002_api_keys.ts';
import { usage } from './0003_usage.ts';
import { idempotency } from './0004_idempotency.ts';
import { imageJobs } from './0005_image_jobs.ts';
import { idempotentHeaders } from './0006_idempotent_headers.ts';

export interface Migration {
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

/** In order; a name once released never changes. */
const MIGRATIONS: Array<[string, Migration]> = [
  ['0001_initial', initial],
  ['0002_api_keys', apiKeys],
  ['0003_usage', usage],
  ['0004_idempotency', idempotency],
  ['0005_image_jobs', imageJobs],
  ['0006_idempotent_headers', idempotentHeaders],
];

function provider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      return Object.fromEntries(MIGRATIONS.map(([name, m]) => [name, { up: (db: Kysely<any>) => m.up(db, dialect) }]));
    },
  };
}

/**
 * `migrationTableSchema` pins Kysely's bookkeeping tables to one PostgreSQL schema: without it Kysely
 * finds another schema's kysely_migration table and skips creating this schema's own.
 */
export async function migrateToLatest(db: Kysely<any>, dialect: Dialect, migrationTableSchema?: string): Promise<string[]> {
  const migrator = new Migrator({ db, provider: provider(dialect), ...(migrationTableSchema ? { migrationTableSchema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
