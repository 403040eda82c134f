// `easel <command>`: dispatches to a command and turns every outcome into an exit code and at most one
// line on stderr: 0 ok, 2 usage or configuration error, 1 failure.
import { ConfigError } from '../config.ts';
import { ApiError } from '../lib/errors.ts';
import { UsageError, note, print, wantsHelp, type Command } from './command.ts';
import { serve } from './commands/serve.ts';
import { migrate } from './commands/migrate.ts';
import { keys } from './commands/keys.ts';
import { users } from './commands/users.ts';
import { media } from './commands/media.ts';
import { jwt } from './commands/jwt.ts';

const COMMANDS: Record<string, Command> = { serve, migrate, keys, users, media, jwt };

const USAGE = [
  'Usage: easel <command> [options]',
  '',
  'Easel: a self-hosted OpenAI-compatible server for chat and image generation.',
  'Configuration comes from the environment (DATA_DIR, DATABASE_URL, …), as for the server.',
  '',
  'Commands:',
  ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
  '',
  "Run 'easel <command> --help' for a command's options.",
].join('\n');

/** One line, whatever the error carried. */
const oneLine = (text: string) => text.split('\n')[0]!.trim();

export async function run(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  try {
    if (name === undefined) throw new UsageError("missing command (run 'easel --help')");
    if (name === '--help' || name === '-h' || name === 'help') {
      print(USAGE);
      return 0;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command '${name}' (run 'easel --help')`);
    if (command.isGroup ? args[0] === '--help' || args[0] === '-h' : wantsHelp(args)) {
      print(command.usage);
      return 0;
    }
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      note(`easel: ${oneLine(error.message)}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      note(`easel: invalid configuration: ${oneLine(error.message)}`);
      return 2;
    }
    const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
    note(`easel: ${oneLine(message) || 'failed'}`);
    return 1;
  }
}
