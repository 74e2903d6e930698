/**
 * The `bulwark` command line: a table of commands and a small dispatcher over node:util
 * `parseArgs`. A command is one file under `commands/` and one line in {@link COMMANDS}.
 *
 * `main(argv, io)` takes its streams, environment and exit from `io`, so tests call it directly;
 * `runCli()` wires it to the process. This file runs the CLI only when executed itself
 * (`tsx src/cli.ts …`); `bin/bulwark.js` imports it and calls `runCli`.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { EnvSource } from 'bulwark/config';
import { createCheckCommand } from './commands/check.js';
import { createSecretsGenerateCommand } from './commands/secrets.js';
import { createSignCommand } from './commands/sign.js';
import { createStartCommand } from './commands/start.js';
import { createKeysCommands } from './commands/keys.js';
import { createAuditVerifyCommand } from './commands/audit.js';
import { validateConfigFile } from './config/validate-file.js';

/** Where a command reads and writes; the process in production, buffers in tests. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** The environment the command sees (`process.env`). */
  readonly env: EnvSource;
  /** Ends the process with this code (`process.exit` after the streams are flushed). */
  readonly exit: (code: number) => unknown;
  /** Directory relative paths are resolved against. @default process.cwd() */
  readonly cwd?: string;
}

/** The options of a command, in node:util `parseArgs` form. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** What a command receives: parsed options, positionals and the io. */
export interface CommandContext {
  readonly values: Readonly<Record<string, string | boolean | readonly (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
  readonly io: CliIo;
  /** `process.cwd()` unless `io.cwd` says otherwise. */
  readonly cwd: string;
}

export interface CliCommand {
  /** The words that select it: `'check'`, `'secrets generate'`, `'keys create'`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis after the name, e.g. `[--config <file>]`. @default '' */
  readonly synopsis?: string;
  /** More text for `bulwark <command> --help`. @default none */
  readonly help?: string;
  /** Options for `parseArgs` (strict: unknown options are usage errors). `--help` is added. @default {} */
  readonly options?: CliOptions;
  /** Whether positional arguments are accepted. @default false */
  readonly allowPositionals?: boolean;
  /** Runs the command; resolves to the exit code. Throws only on bugs (reported as exit 1). */
  run(context: CommandContext): Promise<number> | number;
}

/**
 * Every command, in the order `bulwark --help` lists them. To add one, write
 * `commands/<name>.ts` exporting a {@link CliCommand} and add it here:
 *
 *     createStartCommand(),
 *     createKeysCommands(),   // an array is fine: keys create, keys list, …
 */
export const COMMANDS: readonly CliCommand[] = ([
  createStartCommand(),
  createCheckCommand({ validateConfigFile }),
  createSecretsGenerateCommand(),
  createSignCommand(),
  createKeysCommands(),
  createAuditVerifyCommand(),
  // keys create | list | revoke | rotate, audit verify: one line each.
] satisfies (CliCommand | readonly CliCommand[])[]).flat();

/** Exit codes: 0 success, 1 the command found problems or failed, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function version(): string {
  try {
    // ../package.json from both src/cli.ts and dist/cli.js.
    const manifest = createRequire(import.meta.url)('../package.json') as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The general usage text. */
export function usage(commands: readonly CliCommand[] = COMMANDS): string {
  const width = Math.max(...commands.map((command) => command.name.length), 4);
  const lines = ['Usage: bulwark <command> [options]', '', 'Commands:'];
  for (const command of commands) lines.push(`  ${command.name.padEnd(width)}  ${command.summary}`);
  lines.push('', 'Run `bulwark <command> --help` for the options of a command.', '');
  return lines.join('\n');
}

function commandUsage(command: CliCommand): string {
  const synopsis = command.synopsis === undefined || command.synopsis === '' ? '' : ` ${command.synopsis}`;
  const lines = [`Usage: bulwark ${command.name}${synopsis}`, '', command.summary];
  if (command.help !== undefined) lines.push('', command.help.trimEnd());
  return `${lines.join('\n')}\n`;
}

/** The command whose words are the longest prefix of argv, and the rest of argv. */
function findCommand(argv: readonly string[], commands: readonly CliCommand[]): { command: CliCommand; rest: readonly string[] } | undefined {
  let best: { command: CliCommand; rest: readonly string[] } | undefined;
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.every((word, index) => argv[index] === word) && (best === undefined || words.length > best.command.name.split(' ').length)) {
      best = { command, rest: argv.slice(words.length) };
    }
  }
  return best;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the command line `argv` (without `node` and the script) and ends with `io.exit(code)`.
 *
 * @returns the exit code: 0 success, 1 problems found or the command failed, 2 usage error.
 * @example
 * await main(['check', '--config', 'bulwark.yaml'], { stdout: process.stdout, stderr: process.stderr, env: process.env, exit: process.exit });
 */
export async function main(argv: readonly string[], io: CliIo, commands: readonly CliCommand[] = COMMANDS): Promise<number> {
  const code = await dispatch(argv, io, commands);
  io.exit(code);
  return code;
}

async function dispatch(argv: readonly string[], io: CliIo, commands: readonly CliCommand[]): Promise<number> {
  const [first] = argv;
  if (first === undefined) {
    io.stderr.write(usage(commands));
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(usage(commands));
    return EXIT_OK;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`bulwark ${version()}\n`);
    return EXIT_OK;
  }
  const found = findCommand(argv, commands);
  if (found === undefined) {
    const group = commands.filter((command) => command.name.split(' ')[0] === first);
    const what = group.length > 0 ? `"${first}" needs a subcommand: ${group.map((command) => command.name).join(', ')}` : `unknown command "${first}"`;
    io.stderr.write(`bulwark: ${what}\n\n${usage(commands)}`);
    return EXIT_USAGE;
  }
  const { command, rest } = found;
  let parsed: { values: CommandContext['values']; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: command.allowPositionals ?? false,
    });
  } catch (error) {
    io.stderr.write(`bulwark ${command.name}: ${errorMessage(error)}\n\n${commandUsage(command)}`);
    return EXIT_USAGE;
  }
  if (parsed.values['help'] === true) {
    io.stdout.write(commandUsage(command));
    return EXIT_OK;
  }
  try {
    return await command.run({ values: parsed.values, positionals: parsed.positionals, io, cwd: io.cwd ?? process.cwd() });
  } catch (error) {
    io.stderr.write(`bulwark ${command.name} failed: ${errorMessage(error)}\n`);
    return EXIT_FAILURE;
  }
}

/** Runs the CLI on the real process: argv, streams, environment, and an exit that flushes first. */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  return main(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    exit: (code) => {
      process.exitCode = code;
      // Exit once both streams have flushed, so piped output is never cut short.
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    },
  });
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) void runCli();
