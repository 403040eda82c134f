// What every `easel` command is made of: a usage text, options parsed strictly, and a run function
// that returns an exit code. Mistakes in the command line are UsageErrors (exit 2).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Command {
  /** One line for the command list. */
  summary: string;
  /** The full --help text. */
  usage: string;
  run(args: string[]): Promise<number>;
  /** Groups handle --help for their subcommands themselves. */
  isGroup?: boolean;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `args` against `options`; anything unknown, missing a value or left over is a UsageError. */
export function parse<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!);
  }
}

export function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

/** A whole number option within bounds, or a UsageError naming the option. */
export function integerOption(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

export const print = (line = '') => void process.stdout.write(`${line}\n`);
export const note = (line: string) => void process.stderr.write(`${line}\n`);

/** A command made of subcommands (`easel keys create`). */
export function group(name: string, summary: string, subcommands: Record<string, Command>): Command {
  const usage = [
    `Usage: easel ${name} <command> [options]`,
    '',
    summary,
    '',
    'Commands:',
    ...Object.entries(subcommands).map(([sub, c]) => `  ${sub.padEnd(10)} ${c.summary}`),
    '',
    `Run 'easel ${name} <command> --help' for a command's options.`,
  ].join('\n');
  return {
    summary,
    usage,
    isGroup: true,
    async run(args) {
      const [sub, ...rest] = args;
      if (sub === undefined) throw new UsageError(`missing command for 'easel ${name}' (${Object.keys(subcommands).join(', ')})`);
      if (sub === '--help' || sub === '-h') {
        print(usage);
        return 0;
      }
      const command = subcommands[sub];
      if (!command) throw new UsageError(`unknown command 'easel ${name} ${sub}' (${Object.keys(subcommands).join(', ')})`);
      if (wantsHelp(rest)) {
        print(command.usage);
        return 0;
      }
      return command.run(rest);
    },
  };
}
