import type { Migration } from './index.ts';

// The headers a replayed response must carry as well as its body: an async image job's 202 names the job
// in Location and says Preference-Applied. A JSON object of header name to value; null for rows kept before.
export const idempotentHeaders: Migration = {
  async up(db) {
    await db.schema.alterTable('idempotency_keys').addColumn('response_headers', 'text').execute();
  },
};
