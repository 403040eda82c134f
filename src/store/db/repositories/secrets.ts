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

  async retireJwtKey(kid: string, now: number): Promise<void> {
    await this.db.updateTable('jwt_keys').set({ retired_at: now }).where('kid', '=', kid).execute();
  }
}
