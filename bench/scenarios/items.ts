// 4. Items at scale: listing one conversation's items (first page, and a page after a cursor deep in the
// list) as it grows to 1k, 10k and 100k items, on SQLite and PostgreSQL. Rows are seeded straight into
// the database; reads go through Easel's API at a fixed rate.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import type { Settings } from '../lib/settings.ts';
import { runPaced, type PacedResult } from '../lib/paced-load.ts';
import { measured, type Measured } from '../lib/phase.ts';
import { createConversation, guestLogin, startEasel, type EaselServer } from '../lib/servers.ts';
import { openSeeder, postgresConfig, seedItems, sqliteConfig } from '../lib/seed.ts';
import type { Config } from '../../src/config.ts';

export type DatabaseKind = 'sqlite' | 'postgres';

export interface ItemsRun {
  size: number;
  firstPage: Measured<PacedResult>;
  deepCursor: Measured<PacedResult>;
  /** How many items from the newest the cursor sits (order desc). */
  cursorDepth: number;
}

export interface ItemsResult {
  rate: number;
  databases: Partial<Record<DatabaseKind, ItemsRun[]>>;
  skipped: Partial<Record<DatabaseKind, string>>;
}

export async function itemsScenario(settings: Settings, log: (line: string) => void): Promise<ItemsResult> {
  const result: ItemsResult = { rate: settings.itemRate, databases: {}, skipped: {} };
  for (const kind of ['sqlite', 'postgres'] as const) {
    const schema = `bench_items_${randomBytes(4).toString('hex')}`;
    let easel: EaselServer | undefined;
    try {
      easel = await startEasel({
        name: `items-${kind}`,
        env: kind === 'postgres' ? { DATABASE_URL: settings.postgresUrl, DATABASE_SCHEMA: schema } : {},
      });
    } catch (error) {
      result.skipped[kind] = (error as Error).message.slice(0, 300);
      log(`  ${kind}: skipped (${result.skipped[kind]})`);
      await dropSchema(kind, settings.postgresUrl, schema);
      continue;
    }
    const config: Config['database'] = kind === 'postgres' ? postgresConfig(settings.postgresUrl, schema) : sqliteConfig(easel.dataDir);
    const seeder = await openSeeder(config);
    try {
      const { token } = await guestLogin(easel);
      const auth = { authorization: `Bearer ${token}` };
      const conversationId = await createConversation(easel, token);
      const ids: string[] = [];
      const runs: ItemsRun[] = [];
      for (const size of settings.itemSizes) {
        ids.push(...(await seedItems(seeder, conversationId, size - ids.length)));
        // Bulk-loaded rows would otherwise be planned on stale statistics, autovacuum would vacuum them and
        // the checkpointer flush them in the middle of the measurement (CPU and I/O in its p99). A table that
        // grows this much in production is vacuumed, analyzed and flushed along the way; SQLite needs none.
        if (kind === 'postgres') {
          await sql`vacuum (analyze) items`.execute(seeder.kysely);
          await sql`checkpoint`.execute(seeder.kysely);
        }
        const base = `${easel.url}/v1/conversations/${conversationId}/items?limit=20`;
        const cursorDepth = Math.floor(size * 0.9);
        const cursor = ids[ids.length - 1 - cursorDepth]!;
        const load = (url: string) => measured(settings, log, () => runPaced({ requests: [{ url, headers: auth }], rate: settings.itemRate, warmupMs: 1_000, durationMs: settings.itemMs }));
        const firstPage = await load(base);
        const deepCursor = await load(`${base}&after=${cursor}`);
        runs.push({ size, firstPage, deepCursor, cursorDepth });
        log(
          `  ${kind} ${size} items: first page p50 ${firstPage.latency.p50} ms p99 ${firstPage.latency.p99} ms; ` +
            `after cursor p50 ${deepCursor.latency.p50} ms p99 ${deepCursor.latency.p99} ms; failed ${firstPage.failed + deepCursor.failed}; other CPU ${Math.max(firstPage.conditions.otherCores, deepCursor.conditions.otherCores)}`,
        );
      }
      result.databases[kind] = runs;
    } finally {
      await seeder.close();
      await easel.dispose();
      await dropSchema(kind, settings.postgresUrl, schema);
    }
  }
  return result;
}

async function dropSchema(kind: DatabaseKind, url: string, schema: string): Promise<void> {
  if (kind !== 'postgres') return;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
  } catch {
    // PostgreSQL was not reachable: nothing was created.
  } finally {
    await client.end().catch(() => {});
  }
}
