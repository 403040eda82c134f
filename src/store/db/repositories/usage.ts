import type { Kysely } from 'kysely';
import type { Database, UsageRow } from '../schema.ts';

export class UsageRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** Adds the counters to the row for (user, day, kind, model, size), creating it when it is the first. */
  async add(row: UsageRow): Promise<void> {
    await this.db
      .insertInto('usage')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['user_id', 'day', 'kind', 'model', 'size']).doUpdateSet((eb) => ({
          count: eb('usage.count', '+', eb.ref('excluded.count')),
          prompt_tokens: eb('usage.prompt_tokens', '+', eb.ref('excluded.prompt_tokens')),
          completion_tokens: eb('usage.completion_tokens', '+', eb.ref('excluded.completion_tokens')),
        })),
      )
      .execute();
  }

  /** The user's rows from `fromDay` to `toDay` inclusive (YYYY-MM-DD), oldest first. */
  async forUser(userId: string, fromDay: string, toDay: string): Promise<UsageRow[]> {
    return this.db
      .selectFrom('usage')
      .selectAll()
      .where('user_id', '=', userId)
      .where('day', '>=', fromDay)
      .where('day', '<=', toDay)
      .orderBy('day')
      .orderBy('kind')
      .orderBy('model')
      .orderBy('size')
      .execute();
  }
}
