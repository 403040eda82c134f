// Opens Kysely over SQLite (default, a file in DATA_DIR) or PostgreSQL, with the same schema on both.
import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Config } from '../../config.ts';
import type { Database } from './schema.ts';
import { migrateToLatest } from './migrations/index.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  ping(): Promise<void>;
  close(): Promise<void>;
}

// pg returns int8 (bigint, count) as strings; every such value here fits in a double.
const pgTypes = {
  getTypeParser(oid: number, format?: any) {
    if (oid === 20) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function openDatabase(config: Config['database'], options: { migrate?: boolean } = {}): Promise<Db> {
  let kysely: Kysely<Database>;
  let dialect: Dialect;
  if (config.kind === 'sqlite') {
    fs.mkdirSync(path.dirname(config.file), { recursive: true });
    const sqlite = new SQLite(config.file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    dialect = 'sqlite';
  } else {
    const schema = config.schema;
    if (schema) {
      // Create the schema first so that search_path points at something real.
      const bootstrap = new pg.Client({ connectionString: config.url });
      await bootstrap.connect();
      try {
        await bootstrap.query(`create schema if not exists ${quoteIdent(schema)}`);
      } finally {
        await bootstrap.end();
      }
    }
    const pool = new pg.Pool({
      connectionString: config.url,
      max: 10,
      types: pgTypes,
      ...(schema ? { options: `-c search_path=${quoteIdent(schema)}` } : {}),
    });
    kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    dialect = 'postgres';
  }
  if (options.migrate !== false) await migrateToLatest(kysely, dialect);
  return {
    kysely,
    dialect,
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    close: () => kysely.destroy(),
  };
}
