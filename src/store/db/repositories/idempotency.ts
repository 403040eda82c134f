import type { Kysely } from 'kysely';
import type { Database, IdempotencyRow } from '../schema.ts';

export type StoredResponse = Pick<IdempotencyRow, 'response_status' | 'response_type' | 'response_body' | 'response_headers'>;

export class IdempotencyRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** Inserts the row unless the (user, key) pair exists; true when this call inserted it. */
  async insert(row: IdempotencyRow): Promise<boolean> {
    const result = await this.db
      .insertInto('idempotency_keys')
      .values(row)
      .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async find(userId: string, key: string): Promise<IdempotencyRow | undefined> {
    return this.db.selectFrom('idempotency_keys').selectAll().where('user_id', '=', userId).where('key', '=', key).executeTakeFirst();
  }

  /** Replaces a row (expired, or abandoned in flight) if it is still the one read: true when it was. */
  async replace(previousClaim: string, row: IdempotencyRow): Promise<boolean> {
    const { user_id, key, ...fields } = row;
    const result = await this.db
      .updateTable('idempotency_keys')
      .set(fields)
      .where('user_id', '=', user_id)
      .where('key', '=', key)
      .where('claim_id', '=', previousClaim)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async complete(userId: string, key: string, claim: string, response: StoredResponse): Promise<void> {
    await this.db
      .updateTable('idempotency_keys')
      .set({ state: 'completed', ...response })
      .where('user_id', '=', userId)
      .where('key', '=', key)
      .where('claim_id', '=', claim)
      .execute();
  }

  /** Deletes the row if the claim still holds it in flight. */
  async release(userId: string, key: string, claim: string): Promise<void> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('user_id', '=', userId)
      .where('key', '=', key)
      .where('claim_id', '=', claim)
      .where('state', '=', 'in_flight')
      .execute();
  }

  /** Deletes rows that expired before `now`; returns how many. */
  async deleteExpired(now: number): Promise<number> {
    const result = await this.db.deleteFrom('idempotency_keys').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
