import { group, integerOption, parse, print, type Command } from '../command.ts';
import { withContainer } from '../context.ts';

const list: Command = {
  summary: 'List users, newest first',
  usage: [
    'Usage: easel users list [--limit <n>] [--offset <n>] [--json]',
    '',
    'Options:',
    '  --limit <n>   How many (1 to 10000, default 100)',
    '  --offset <n>  Skip this many first (default 0)',
    '  --json        One JSON array instead of a table',
  ].join('\n'),
  async run(args) {
    const options = parse(args, { limit: { type: 'string' }, offset: { type: 'string' }, json: { type: 'boolean' } });
    const limit = integerOption(options.limit, 'limit', 100, 1, 10_000);
    const offset = integerOption(options.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    return withContainer(async ({ db }) => {
      const { UsersRepository } = await import('../../store/db/repositories/users.ts');
      const rows = await new UsersRepository(db.kysely).list({ limit, offset });
      if (options.json) {
        print(JSON.stringify(rows.map((u) => ({ id: u.id, username: u.username, kind: u.kind, created_at: Math.floor(u.created_at / 1000) }))));
        return 0;
      }
      print(`${'ID'.padEnd(34)}  ${'KIND'.padEnd(5)}  CREATED`);
      for (const u of rows) print(`${u.id.padEnd(34)}  ${u.kind.padEnd(5)}  ${new Date(u.created_at).toISOString()}`);
      return 0;
    });
  },
};

export const users = group('users', 'Inspect users', { list });
