import type { Migration } from './index.ts';

// Async image generations (`Prefer: respond-async`). A job is queued, then claimed by one instance with a
// conditional UPDATE (claim_id, lease_until); the claimant renews the lease while it works, and a job whose
// lease ran out (its instance died) or that was handed back (a shutdown) is claimed again. The request is
// kept as validated; the result holds media ids only, so URLs are signed when the job is read.
export const imageJobs: Migration = {
  async up(db) {
    await db.schema
      .createTable('image_jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('model', 'text')
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('provider', 'text')
      .addColumn('claim_id', 'text')
      .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('available_at', 'bigint', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('result', 'text')
      .addColumn('error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('completed_at', 'bigint')
      .execute();
    // The runners' poll: jobs that are queued (or whose lease ran out), oldest first.
    await db.schema.createIndex('image_jobs_status_available').on('image_jobs').columns(['status', 'available_at']).execute();
    await db.schema.createIndex('image_jobs_user').on('image_jobs').columns(['user_id', 'created_at']).execute();
  },
};
