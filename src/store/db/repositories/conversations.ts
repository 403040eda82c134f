import type { Kysely, Transaction } from 'kysely';
import type { ConversationRow, Database } from '../schema.ts';

// Ids bound in one `in (…)` list at most.
const ID_BATCH = 1000;

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

  /** touch() for several conversations at once (a group commit's appends). */
  async touchMany(ids: string[], now: number, trx: Kysely<Database> = this.db): Promise<void> {
    if (ids.length === 1) return this.touch(ids[0]!, now, trx);
    for (let i = 0; i < ids.length; i += ID_BATCH) {
      await trx.updateTable('conversations').set({ updated_at: now }).where('id', 'in', ids.slice(i, i + ID_BATCH)).where('updated_at', '<', now).execute();
    }
  }

  /**
   * The data of every item of the caller's conversation, in order, or undefined when the conversation is
   * missing or someone else's: ownership and history in one query, as a chat turn needs both.
   */
  async ownedItemData(id: string, userId: string): Promise<string[] | undefined> {
    const rows = await this.db
      .selectFrom('conversations')
      .leftJoin('items', 'items.conversation_id', 'conversations.id')
      .select('items.data')
      .where('conversations.id', '=', id)
      .where('conversations.user_id', '=', userId)
      .orderBy('items.seq', 'asc')
      .execute();
    if (rows.length === 0) return undefined;
    // A conversation without items still yields one row, with no item in it.
    return rows.length === 1 && rows[0]!.data === null ? [] : rows.map((row) => row.data!);
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
