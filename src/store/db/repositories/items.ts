import type { Kysely } from 'kysely';
import type { Database, ItemRow, NewItemRow } from '../schema.ts';
import type { Page } from './conversations.ts';

// 5 bound values a row: 1,000 rows stay well under SQLite's (32,766) and PostgreSQL's (65,535) limits.
const INSERT_BATCH = 1000;

export class ItemsRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** In order (seq follows the array), in statements of at most INSERT_BATCH rows. */
  async insertMany(rows: NewItemRow[], trx: Kysely<Database> = this.db): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      await trx.insertInto('items').values(rows.length <= INSERT_BATCH ? rows : rows.slice(i, i + INSERT_BATCH)).execute();
    }
  }

  async find(conversationId: string, id: string): Promise<ItemRow | undefined> {
    return this.db
      .selectFrom('items')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async delete(conversationId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('items').where('conversation_id', '=', conversationId).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Pages by seq, which only grows: items added meanwhile never shift a page already handed out. */
  async list(conversationId: string, options: { limit: number; afterSeq?: number; order: 'asc' | 'desc' }): Promise<Page<ItemRow>> {
    const { limit, afterSeq, order } = options;
    let query = this.db.selectFrom('items').selectAll().where('conversation_id', '=', conversationId);
    if (afterSeq !== undefined) query = query.where('seq', order === 'asc' ? '>' : '<', afterSeq);
    const rows = await query.orderBy('seq', order).limit(limit + 1).execute();
    return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
  }
}
