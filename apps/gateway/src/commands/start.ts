import type { CliCommand } from '../cli.js';
import { runDemo } from '../demo/run-demo.js';
import { runUntilSignal, type SignalSource } from '../lifecycle/signals.js';
import { startGateway } from '../lifecycle/start.js';
import { adminBuiltins } from '../admin/register.js';

/**
 * `bulwark start [--config <file>] [--demo]`: validates the environment and the config (exit 1
 * listing every problem, before anything listens), starts the gateway, and runs until SIGTERM or
 * SIGINT (graceful drain) — SIGHUP reloads the config. `--demo` runs on embedded defaults with a
 * demo upstream beside it and prints what to try next.
 */
export function createStartCommand(signals: SignalSource = process): CliCommand {
  return {
    name: 'start',
    summary: 'Run the gateway (or, with --demo, a demo on embedded defaults)',
    synopsis: '[--config <file>] [--demo]',
    help: [
      'Options:',
      '  --config <file>  the gateway config (default: BULWARK_CONFIG)',
      '  --demo           embedded defaults, a demo upstream and a fresh admin key; for trying it out',
      '',
      'Signals: SIGTERM/SIGINT drain in-flight requests and exit; SIGHUP reloads the config file',
      '(an invalid file is refused and the running config kept).',
      'Exit status: 0 after a clean shutdown, 1 when the environment or the config is invalid.',
    ].join('\n'),
    options: { config: { type: 'string' }, demo: { type: 'boolean' } },
    async run({ values, io, cwd }) {
      if (values['demo'] === true) return runDemo({ io, cwd, signals });
      const configPath = typeof values['config'] === 'string' ? values['config'] : undefined;
      const started = await startGateway({ env: io.env, cwd, configPath, builtins: adminBuiltins });
      if (!started.ok) {
        io.stderr.write(`bulwark start: not started.\n\n${started.message}\n`);
        return 1;
      }
      return runUntilSignal(started.running, signals);
    },
  };
}
