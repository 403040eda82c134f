import { group, parse, print, UsageError, type Command } from '../command.ts';
import { withContainer } from '../context.ts';

const rotate: Command = {
  summary: 'Create a new JWT signing key',
  usage: [
    'Usage: easel jwt rotate',
    '',
    'Creates a new RS256 signing key. New access tokens are signed with it; tokens signed with older',
    'keys keep verifying (and stay in /.well-known/jwks.json) until those keys are retired.',
    'Running instances sign with it once they reload their keys (every JWT_KEYS_RELOAD_SECONDS, default 5),',
    'and accept tokens signed with it at once.',
  ].join('\n'),
  async run(args) {
    parse(args, {});
    return withContainer(async ({ keys }) => {
      const kid = await keys.rotate();
      print(`New signing key ${kid}`);
      return 0;
    });
  },
};

const list: Command = {
  summary: 'List the JWT signing keys',
  usage: [
    'Usage: easel jwt list [--json]',
    '',
    'Lists every key, newest first: its kid, when it was made, and whether it signs new tokens,',
    'still verifies older ones, or is retired. Never the key material.',
  ].join('\n'),
  async run(args) {
    const options = parse(args, { json: { type: 'boolean' } });
    return withContainer(async ({ keys }) => {
      const list = await keys.list();
      if (options.json) print(JSON.stringify(list));
      else for (const k of list) print(`${k.kid}  ${new Date(k.created_at).toISOString()}  ${k.signing ? 'signing' : k.retired_at === null ? 'verifying' : `retired ${new Date(k.retired_at).toISOString()}`}`);
      return 0;
    });
  },
};

const retire: Command = {
  summary: 'Retire a JWT key: tokens signed with it stop working',
  usage: [
    'Usage: easel jwt retire --kid <kid>',
    '',
    'Retires a key (see `easel jwt list`): tokens signed with it are refused, and it leaves',
    '/.well-known/jwks.json, on every instance within JWT_KEYS_RELOAD_SECONDS (default 5).',
    'The key that signs new tokens can be retired only after `easel jwt rotate` made another.',
  ].join('\n'),
  async run(args) {
    const options = parse(args, { kid: { type: 'string' } });
    if (!options.kid) throw new UsageError('--kid <kid> is required');
    return withContainer(async ({ keys }) => {
      await keys.retire(options.kid!);
      print(`Retired ${options.kid}`);
      return 0;
    });
  },
};

export const jwt = group('jwt', 'Manage the keys that sign access tokens', { rotate, list, retire });
