import type { Kysely } from 'kysely';
import type { Database, MediaRow } from '../schema.ts';

export class MediaRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** All rows in one statement: a batch of images is recorded whole or not at all. */
  async insertMany(rows: MediaRow[], trx: Kysely<Database> = this.db): Promise<void> {
    if (rows.length > 0) await trx.insertInto('media').values(rows).execute();
  }

  async find(id: string): Promise<MediaRow | undefined> {
    return this.db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findOwned(id: string, userId: string): Promise<MediaRow | undefined> {
    return this.db.selectFrom('media').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  }

  async delete(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.db.deleteFrom('media').where('id', 'in', ids).execute();
  }
}
