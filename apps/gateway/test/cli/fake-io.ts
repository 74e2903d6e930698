import type { EnvSource } from 'bulwark/config';
import type { CliCommand, CliIo } from '../../src/cli.js';
import { main } from '../../src/cli.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The codes `io.exit` was called with (exactly one per run). */
  readonly exits: readonly number[];
}

/** Runs `main` with buffered streams and a recording exit. */
export async function runMain(argv: readonly string[], env: EnvSource = {}, options: { cwd?: string; commands?: readonly CliCommand[] } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const exits: number[] = [];
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    exit: (code: number) => exits.push(code),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  };
  const code = options.commands === undefined ? await main(argv, io) : await main(argv, io, options.commands);
  return { code, stdout, stderr, exits };
}
