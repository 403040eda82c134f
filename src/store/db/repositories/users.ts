import type { Kysely } from 'kysely';
import type { Database, User } from '../schema.ts';

export class UsersRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async create(user: User): Promise<User> {
    await this.db.insertInto('users').values(user).execute();
    return user;
  }

  async find(id: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(options: { limit: number; offset: number }): Promise<User[]> {
    return this.db.selectFrom('users').selectAll().orderBy('created_at', 'desc').limit(options.limit).offset(options.offset).execute();
  }
}
