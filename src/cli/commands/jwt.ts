import { group, parse, print, type Command } from '../command.ts';
import { withContainer } from '../context.ts';

const rotate: Command = {
  summary: 'Create a new JWT signing key',
  usage: [
    'Usage: easel jwt rotate',
    '',
    'Creates a new RS256 signing key. New access tokens are signed with it; tokens signed with older',
    'keys keep verifying (and stay in /.well-known/jwks.json) until those keys are retired.',
    'Running instances pick the new key up within a minute (at once when they see a token signed with it).',
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

export const jwt = group('jwt', 'Manage the keys that sign access tokens', { rotate });
