/**
 * `bulwark check [--config <file>] [--env-file <file>]`: validates the environment (and the config
 * file, once the gateway registers its validator) without starting anything, and lists EVERY
 * problem. Exit 0 with a short summary when all is well, 1 otherwise.
 *
 * Nothing secret is printed: secrets appear only as "set", the master key by its public key id,
 * and URLs (which can carry passwords) not at all.
 */
import { access, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { bulwarkEnvSchema, formatEnvIssues, loadEnv } from 'bulwark/config';
import type { BulwarkEnv, EnvSource } from 'bulwark/config';
import { createKeyring, parseMasterKey } from 'bulwark/crypto';
import type { CliCommand } from '../cli.js';

/** One problem in a config file, located by its path in the file (`routes[2].auth`), empty for the whole file. */
export interface ConfigFileProblem {
  readonly path: string;
  readonly message: string;
}

/** What a config file validator reports. */
export type ConfigFileCheck = { readonly ok: true; readonly summary?: readonly string[] } | { readonly ok: false; readonly problems: readonly ConfigFileProblem[] };

/**
 * Validates a config file; registered by the gateway's config module, e.g.
 * `createCheckCommand({ validateConfigFile: (path, { source }) => loadConfigFile(path, source) })`.
 * Receives the absolute path, the raw environment (for `${VAR}` interpolation) and the validated
 * Bulwark environment when it is valid (`undefined` when it has problems: the config is still
 * checked, so that one run lists every problem).
 */
export type ConfigFileValidator = (path: string, context: { readonly source: EnvSource; readonly env: BulwarkEnv | undefined }) => Promise<ConfigFileCheck>;

export interface CheckCommandOptions {
  /** Validates `--config` / `BULWARK_CONFIG`. Without it, `check` only verifies the file is readable. @default none */
  readonly validateConfigFile?: ConfigFileValidator | undefined;
}

async function readEnvFile(path: string): Promise<{ ok: true; values: Record<string, string> } | { ok: false; message: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, message: `cannot read the env file ${path} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})` };
  }
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(parseEnv(text))) if (value !== undefined) values[name] = value;
  return { ok: true, values };
}

function keyIdOf(masterKey: string): string {
  return createKeyring({ current: parseMasterKey(masterKey) }).keyId;
}

/** The short summary of a valid environment: what Bulwark would use, never a secret or a URL. */
function environmentSummary(env: BulwarkEnv): string[] {
  const lines = [`  mode:         NODE_ENV=${env.NODE_ENV}, log level ${env.LOG_LEVEL}`, `  listen:       ${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${env.PORT}`];
  lines.push(
    env.masterKeySource === 'env'
      ? `  master key:   BULWARK_MASTER_KEY (key id ${keyIdOf(env.BULWARK_MASTER_KEY)})`
      : '  master key:   none set: an ephemeral key would be generated at start (development only)',
  );
  if (env.BULWARK_MASTER_KEY_PREVIOUS !== undefined) lines.push(`  rotation:     previous key id ${keyIdOf(env.BULWARK_MASTER_KEY_PREVIOUS)} still decrypts`);
  const metricsAccess = [env.METRICS_TOKEN === undefined ? undefined : 'bearer token', `from ${env.METRICS_ALLOWED_IPS?.join(', ') ?? 'loopback only'}`].filter((part) => part !== undefined);
  lines.push(`  metrics:      ${metricsAccess.join(', ')}`);
  lines.push(`  shared state: ${env.REDIS_URL === undefined ? 'in-process memory stores (single instance only)' : 'Redis (REDIS_URL set, not contacted)'}`);
  lines.push(`  database:     ${env.DATABASE_URL === undefined ? `embedded PGlite in ${env.BULWARK_DATA_DIR}` : 'PostgreSQL (DATABASE_URL set, not contacted)'}`);
  return lines;
}

export function createCheckCommand(options: CheckCommandOptions = {}): CliCommand {
  const { validateConfigFile } = options;
  return {
    name: 'check',
    summary: 'Validate the environment and the config file; list every problem',
    synopsis: '[--config <file>] [--env-file <file>]',
    help: [
      'Options:',
      '  --config <file>    config file to validate (default: BULWARK_CONFIG)',
      '  --env-file <file>  read variables from a .env file; variables already set in the',
      '                     environment win, as with `node --env-file`',
      '',
      'Exit status: 0 when everything is valid, 1 when there are problems (all are listed).',
    ].join('\n'),
    options: { config: { type: 'string' }, 'env-file': { type: 'string' } },
    async run({ values, io, cwd }) {
      const problems: string[] = [];
      const notes: string[] = [];
      let source: EnvSource = io.env;

      const envFile = values['env-file'];
      if (typeof envFile === 'string') {
        const read = await readEnvFile(resolve(cwd, envFile));
        if (!read.ok) {
          io.stderr.write(`✗ ${read.message}\n`);
          return 1;
        }
        source = { ...read.values, ...io.env };
      }

      const loaded = loadEnv(bulwarkEnvSchema, source);
      const report: string[] = [];
      let failures = 0;
      if (loaded.ok) {
        report.push('✓ environment: valid', ...environmentSummary(loaded.env));
        if (loaded.env.masterKeySource === 'ephemeral') {
          notes.push('! BULWARK_MASTER_KEY is not set: data encrypted at rest and sessions will not survive a restart. Run `bulwark secrets generate`.');
        }
      } else {
        failures += loaded.issues.length;
        problems.push(formatEnvIssues(loaded.issues, { title: '✗ environment' }).trimEnd());
      }

      const configOption = values['config'];
      const configPath = typeof configOption === 'string' ? configOption : source['BULWARK_CONFIG'];
      if (configPath === undefined) {
        report.push('- config: no file given (--config or BULWARK_CONFIG); skipped');
      } else {
        const absolute = resolve(cwd, configPath);
        if (validateConfigFile !== undefined) {
          const checked = await validateConfigFile(absolute, { source, env: loaded.ok ? loaded.env : undefined });
          if (checked.ok) {
            report.push(`✓ config: ${configPath} is valid`, ...(checked.summary ?? []).map((line) => `  ${line}`));
          } else {
            failures += checked.problems.length;
            const count = checked.problems.length === 1 ? '1 problem' : `${checked.problems.length} problems`;
            problems.push(`✗ config: ${configPath}: ${count}.`, ...checked.problems.map((problem) => `  ✗ ${problem.path === '' ? '' : `${problem.path}: `}${problem.message}`));
          }
        } else {
          try {
            await access(absolute);
            report.push(`- config: ${configPath} is readable; its contents are validated by the gateway config module, not registered in this build`);
          } catch (error) {
            failures += 1;
            problems.push(`✗ config: cannot read ${configPath} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
          }
        }
      }

      if (failures > 0) {
        io.stderr.write(`${[...problems, '', `Check failed: ${failures === 1 ? '1 problem' : `${failures} problems`}.`].join('\n')}\n`);
        return 1;
      }
      io.stdout.write(`${[...report, '', 'OK: ready to start.'].join('\n')}\n`);
      if (notes.length > 0) io.stderr.write(`${notes.join('\n')}\n`);
      return 0;
    },
  };
}
