// Seeds conversations and items straight into Easel's database through its own openDatabase() and row
// format (toRow/messageFromInput), so seeded rows are exactly what the API would have written, only faster.
import path from 'node:path';
import type { Config } from '../../src/config.ts';
import { openDatabase, type Db } from '../../src/store/db/database.ts';
import { newId } from '../../src/lib/ids.ts';
import { messageFromInput, toRow } from '../../src/services/items.ts';
import type { NewItemRow } from '../../src/store/db/schema.ts';
import { priorMessages } from './servers.ts';

export function sqliteConfig(dataDir: string): Config['database'] {
  return { kind: 'sqlite', file: path.join(dataDir, 'easel.db') };
}

export function postgresConfig(url: string, schema: string): Config['database'] {
  return { kind: 'postgres', url, schema };
}

/** Easel migrated the database when it started; the seeder only writes rows. */
export function openSeeder(config: Config['database']): Promise<Db> {
  return openDatabase(config, { migrate: false });
}

// 6 columns a row: 1,000 rows stay under SQLite's and PostgreSQL's bound-parameter limits.
const BATCH = 1000;

async function insertItems(db: Db, rows: NewItemRow[]): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += BATCH) await trx.insertInto('items').values(rows.slice(i, i + BATCH)).execute();
  });
}

/** `count` conversations owned by `userId`, each with `itemsEach` alternating user/assistant messages. */
export async function seedConversations(db: Db, userId: string, count: number, itemsEach: number): Promise<string[]> {
  const now = Date.now();
  const ids = Array.from({ length: count }, () => newId('conv'));
  const messages = priorMessages(itemsEach).map(messageFromInput);
  await db.kysely.transaction().execute(async (trx) => {
    for (let i = 0; i < ids.length; i += BATCH) {
      await trx
        .insertInto('conversations')
        .values(ids.slice(i, i + BATCH).map((id) => ({ id, user_id: userId, title: null, metadata: '{}', created_at: now, updated_at: now })))
        .execute();
    }
  });
  await insertItems(db, ids.flatMap((id) => messages.map((message) => toRow(id, message, now))));
  return ids;
}

/** Appends `count` messages to one conversation; returns their ids, oldest first. */
export async function seedItems(db: Db, conversationId: string, count: number): Promise<string[]> {
  const now = Date.now();
  const messages = priorMessages(2).map(messageFromInput);
  const rows = Array.from({ length: count }, (_, i) => toRow(conversationId, messages[i % 2]!, now));
  await insertItems(db, rows);
  return rows.map((row) => row.id!);
}
