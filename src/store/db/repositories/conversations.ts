import type { Kysely, Transaction } from 'kysely';
import type { ConversationRow, Database } from '../schema.ts';

export interface Page<T> {
  rows: T[];
  hasMore: boolean;
}

export class ConversationsRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async insert(row: ConversationRow, trx: Kysely<Database> = this.db): Promise<void> {
    await trx.insertInto('conversations').values(row).execute();
  }

  async findOwned(id: string, userId: string): Promise<ConversationRow | undefined> {
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  async update(id: string, changes: Partial<Pick<ConversationRow, 'title' | 'metadata' | 'updated_at'>>, trx: Kysely<Database> | Transaction<Database> = this.db): Promise<void> {
    await trx.updateTable('conversations').set(changes).where('id', '=', id).execute();
  }

  /** Conversations touched by new items move up the list; updated_at only ever grows. */
  async touch(id: string, now: number, trx: Kysely<Database> = this.db): Promise<void> {
    await trx.updateTable('conversations').set({ updated_at: now }).where('id', '=', id).where('updated_at', '<', now).execute();
  }

  async delete(id: string, userId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('conversations').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Most recently updated first (desc) or last (asc); `after` is the id of the last row of the previous page. */
  async list(userId: string, options: { limit: number; after?: ConversationRow; order: 'asc' | 'desc' }): Promise<Page<ConversationRow>> {
    const { limit, after, order } = options;
    let query = this.db.selectFrom('conversations').selectAll().where('user_id', '=', userId);
    if (after) {
      const cmp = order === 'desc' ? '<' : '>';
      query = query.where((eb) =>
        eb.or([
          eb('updated_at', cmp, after.updated_at),
          eb.and([eb('updated_at', '=', after.updated_at), eb('id', cmp, after.id)]),
        ]),
      );
    }
    const rows = await query.orderBy('updated_at', order).orderBy('id', order).limit(limit + 1).execute();
    return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
  }
}
