import { config } from '../context.ts';
import { parse, print, type Command } from '../command.ts';

export const migrate: Command = {
  summary: 'Bring the database schema up to date',
  usage: [
    'Usage: easel migrate',
    '',
    'Applies every migration the database has not had yet, in order, and lists them.',
    'The server does the same when it starts; run this to migrate ahead of a deploy.',
  ].join('\n'),
  async run(args) {
    parse(args, {});
    const settings = config();
    const { sql } = await import('kysely');
    const { openDatabase } = await import('../../store/db/database.ts');
    const { migrateToLatest } = await import('../../store/db/migrations/index.ts');
    const db = await openDatabase(settings.database, { migrate: false });
    try {
      // PostgreSQL: keep Kysely's bookkeeping in the schema the tables go to (as the server does).
      const schema = db.dialect === 'postgres'
        ? (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db.kysely)).rows[0]?.schema ?? undefined
        : undefined;
      const applied = await migrateToLatest(db.kysely, db.dialect, schema);
      for (const name of applied) print(`applied ${name}`);
      print(applied.length === 0 ? 'Database is up to date.' : `Database is up to date (${applied.length} migration${applied.length === 1 ? '' : 's'} applied).`);
      return 0;
    } finally {
      await db.close();
    }
  },
};
