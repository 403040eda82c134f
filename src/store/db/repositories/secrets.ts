// Key material every instance must share: JWT signing keys and named secrets (e.g. the media URL key).
import type { Kysely, Selectable } from 'kysely';
import type { Database, JwtKeysTable } from '../schema.ts';

export type JwtKeyRow = Selectable<JwtKeysTable>;

export class SecretsRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** Returns the stored value for name, storing `candidate` first if there is none (first writer wins). */
  async getOrCreate(name: string, candidate: () => string): Promise<string> {
    await this.db
      .insertInto('secrets')
      .values({ name, value: candidate(), created_at: Date.now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.db.selectFrom('secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
    return row.value;
  }

  async jwtKeys(): Promise<JwtKeyRow[]> {
    return this.db.selectFrom('jwt_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid', 'desc').execute();
  }

  async insertJwtKey(row: JwtKeyRow): Promise<void> {
    await this.db.insertInto('jwt_keys').values(row).execute();
  }

  /**
   * Retires a key that is not retired yet, provided another key stays that can sign, in one statement.
   * False when nothing was retired (no such key, already retired, or the last active one).
   */
  async retireJwtKey(kid: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('jwt_keys')
      .set({ retired_at: now })
      .where('kid', '=', kid)
      .where('retired_at', 'is', null)
      .where(({ exists, selectFrom }) =>
        exists(selectFrom('jwt_keys as other').select('other.kid').where('other.kid', '<>', kid).where('other.retired_at', 'is', null)),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
