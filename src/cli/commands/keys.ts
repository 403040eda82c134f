import { group, integerOption, note, parse, print, UsageError, type Command } from '../command.ts';
import { withContainer } from '../context.ts';
import { MAX_LIFETIME_DAYS } from '../../services/api-keys.ts';

const create: Command = {
  summary: 'Create an API key for a user',
  usage: [
    'Usage: easel keys create --user <user_id> [--name <name>] [--expires-in-days <days>] [--json]',
    '',
    'Creates an API key and prints it on stdout (only this once: store it now).',
    '',
    'Options:',
    '  --user <user_id>          The user the key acts as (see `easel users list`)',
    '  --name <name>             A label to tell keys apart (default "cli")',
    `  --expires-in-days <days>  Lifetime, 1 to ${MAX_LIFETIME_DAYS} days (default: never expires)`,
    '  --json                    Print the whole key object as JSON',
  ].join('\n'),
  async run(args) {
    const options = parse(args, {
      user: { type: 'string' },
      name: { type: 'string' },
      'expires-in-days': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!options.user) throw new UsageError('--user <user_id> is required');
    const name = options.name ?? 'cli';
    if (name.length < 1 || name.length > 100) throw new UsageError('--name must be 1 to 100 characters');
    const days = options['expires-in-days'] === undefined ? undefined : integerOption(options['expires-in-days'], 'expires-in-days', 0, 1, MAX_LIFETIME_DAYS);
    return withContainer(async ({ apiKeys }) => {
      const key = await apiKeys.create(options.user!, { name, ...(days === undefined ? {} : { expires_in_days: days }) });
      if (options.json) {
        print(JSON.stringify(key));
      } else {
        print(key.key);
        note(`Created API key ${key.id} (${name}) for ${options.user}${key.expires_at ? `, expiring ${new Date(key.expires_at * 1000).toISOString()}` : ''}. It is shown only this once.`);
      }
      return 0;
    });
  },
};

const list: Command = {
  summary: "List a user's API keys",
  usage: ['Usage: easel keys list --user <user_id> [--json]', '', 'Lists the keys (never the keys themselves: only their first and last characters).'].join('\n'),
  async run(args) {
    const options = parse(args, { user: { type: 'string' }, json: { type: 'boolean' } });
    if (!options.user) throw new UsageError('--user <user_id> is required');
    return withContainer(async ({ apiKeys }) => {
      const keys = await apiKeys.list(options.user!);
      if (options.json) print(JSON.stringify(keys));
      else for (const k of keys) print(`${k.id}  ${`${k.prefix}…${k.suffix}`.padEnd(20)}  ${k.name}`);
      return 0;
    });
  },
};

const revoke: Command = {
  summary: 'Delete (revoke) an API key',
  usage: ['Usage: easel keys revoke --user <user_id> --id <key_id>', '', 'Deletes the key; requests with it are refused from then on.'].join('\n'),
  async run(args) {
    const options = parse(args, { user: { type: 'string' }, id: { type: 'string' } });
    if (!options.user || !options.id) throw new UsageError('--user <user_id> and --id <key_id> are required');
    return withContainer(async ({ apiKeys }) => {
      await apiKeys.delete(options.user!, options.id!);
      print(`Revoked ${options.id}`);
      return 0;
    });
  },
};

export const keys = group('keys', 'Manage API keys', { create, list, revoke });
