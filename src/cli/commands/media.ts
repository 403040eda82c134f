import { group, integerOption, note, parse, print, type Command } from '../command.ts';
import { withContainer } from '../context.ts';

const HOUR_MS = 3_600_000;

const prune: Command = {
  summary: 'Delete media files that no media row refers to',
  usage: [
    'Usage: easel media prune [--grace-hours <n>] [--dry-run]',
    '',
    'Lists the media store and deletes every file older than the grace period that no media row',
    'refers to (left behind by a crash between writing an image and recording it). Prints each one.',
    '',
    'Options:',
    '  --grace-hours <n>  Leave files younger than this alone (default 24, minimum 1)',
    '  --dry-run          Only list what would be deleted',
  ].join('\n'),
  async run(args) {
    const options = parse(args, { 'grace-hours': { type: 'string' }, 'dry-run': { type: 'boolean' } });
    const graceHours = integerOption(options['grace-hours'], 'grace-hours', 24, 1, 24 * 365);
    const dryRun = options['dry-run'] === true;
    return withContainer(async ({ config, db }) => {
      const { createMediaStore } = await import('../../store/media/index.ts');
      const { pruneOrphanMedia } = await import('../../services/media-prune.ts');
      const store = await createMediaStore(config.media);
      const result = await pruneOrphanMedia({ store, db: db.kysely }, {
        graceMs: graceHours * HOUR_MS,
        dryRun,
        onOrphan: (key) => print(`${dryRun ? 'would delete' : 'deleting'} ${key}`),
        onError: (key, error) => note(`could not delete ${key}: ${error instanceof Error ? error.message : String(error)}`),
      });
      print(dryRun
        ? `Scanned ${result.scanned} files: ${result.orphans} orphaned (nothing deleted: dry run).`
        : `Scanned ${result.scanned} files: deleted ${result.deleted} orphaned${result.failed ? `, ${result.failed} could not be deleted` : ''}.`);
      // Some orphans left behind is a failure the operator should see in the exit code.
      return result.failed > 0 ? 1 : 0;
    });
  },
};

export const media = group('media', 'Maintain the media store', { prune });
