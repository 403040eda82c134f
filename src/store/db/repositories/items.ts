import type { Kysely } from 'kysely';
import type { Database, ItemRow, NewItemRow } from '../schema.ts';
import type { Page } from './conversations.ts';

export class ItemsRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async insertMany(rows: NewItemRow[], trx: Kysely<Database> = this.db): Promise<void> {
    if (rows.length > 0) await trx.insertInto('items').values(rows).execute();
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

  /** Every item of a conversation in order, for replaying history to a model. */
  async all(conversationId: string): Promise<ItemRow[]> {
    return this.db.selectFrom('items').selectAll().where('conversation_id', '=', conversationId).orderBy('seq', 'asc').execute();
  }
}
