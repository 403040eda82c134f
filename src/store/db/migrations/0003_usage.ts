import type { Migration } from './index.ts';

// One row per user, UTC day, kind, model and size; recording adds to the counters with an upsert
// (INSERT … ON CONFLICT DO UPDATE), which SQLite and PostgreSQL both support.
export const usage: Migration = {
  async up(db) {
    await db.schema
      .createTable('usage')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('size', 'text', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('prompt_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('completion_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('usage_pk', ['user_id', 'day', 'kind', 'model', 'size'])
      .execute();
  },
};
