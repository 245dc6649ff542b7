import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../api/console/console-files.js';
import { ConfigError, isSwitchboardError, ErrorCodes, describeError } from '../errors.js';
import type { Command, CommandContext } from './command.js';

/** Exit codes: 0 ok, 1 failure at run time, 2 usage, 3 invalid configuration. */
export const ExitCodes = { OK: 0, FAILURE: 1, USAGE: 2, CONFIG: 3 } as const;

function helpText(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.words.join(' ').length));
  return [
    'usage: switchboard <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    "Run 'switchboard <command> --help' for a command's options, 'switchboard --version' for the version.",
    '',
  ].join('\n');
}

/** The version in package.json (the source and the compiled tree both live under it). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(import.meta.dirname), 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** Picks the command with the longest matching words and runs it, mapping errors to exit codes. */
export async function runCli(
  commands: readonly Command[],
  argv: readonly string[],
  io: Omit<CommandContext, 'argv'>,
): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(helpText(commands));
    return argv.length === 0 ? ExitCodes.USAGE : ExitCodes.OK;
  }
  if (argv[0] === '--version' || argv[0] === 'version') {
    io.stdout.write(`switchboard ${packageVersion()}\n`);
    return ExitCodes.OK;
  }
  let chosen: Command | undefined;
  for (const c of commands) {
    const matches = c.words.every((w, i) => argv[i] === w);
    if (matches && (chosen === undefined || c.words.length > chosen.words.length)) chosen = c;
  }
  if (chosen === undefined) {
    io.stderr.write(`switchboard: unknown command "${argv.join(' ')}"\n\n${helpText(commands)}`);
    return ExitCodes.USAGE;
  }
  const rest = argv.slice(chosen.words.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${chosen.summary}\nusage: ${chosen.usage}\n`);
    return ExitCodes.OK;
  }
  try {
    return await chosen.run({ ...io, argv: rest });
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr.write(`${e.message}\n`);
      return ExitCodes.CONFIG;
    }
    if (isSwitchboardError(e)) {
      io.stderr.write(`switchboard: ${e.message}\n`);
      if (e.code === ErrorCodes.USAGE) return ExitCodes.USAGE;
      if (e.code === ErrorCodes.CONFIG_UNREADABLE) return ExitCodes.CONFIG;
      return ExitCodes.FAILURE;
    }
    io.stderr.write(`switchboard: ${describeError(e)}\n`);
    return ExitCodes.FAILURE;
  }
}
