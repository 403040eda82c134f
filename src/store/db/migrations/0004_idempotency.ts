import type { Migration } from './index.ts';

// One row per (user, Idempotency-Key): the hash of the request it was first used with, whether that request
// is still running, and, once it succeeded, the response to replay. Rows expire (expires_at) after 24 h.
export const idempotency: Migration = {
  async up(db) {
    await db.schema
      .createTable('idempotency_keys')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('request_hash', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      // Random per request that claims the key: only that request may complete or release it.
      .addColumn('claim_id', 'text', (c) => c.notNull())
      .addColumn('response_status', 'integer')
      .addColumn('response_type', 'text')
      .addColumn('response_body', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['user_id', 'key'])
      .execute();
    await db.schema.createIndex('idempotency_keys_expires').on('idempotency_keys').column('expires_at').execute();
  },
};
