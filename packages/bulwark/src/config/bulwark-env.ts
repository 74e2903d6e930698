/**
 * The whole Bulwark environment, declared once. This table is the single source for validation
 * (`bulwarkEnvSchema`), `bulwark secrets generate`, `bulwark check`, `.env.example` and
 * docs/config.md.
 */
import type { z } from 'zod';
import { generateMasterKey } from '../crypto/master-key.js';
import { generateSecret } from '../crypto/generate-secret.js';
import { envInteger, envDuration } from './env-number.js';
import { envCidrList } from './env-cidr-list.js';
import { addEnvIssue } from './env-schema.js';
import { envMasterKey, envSecret, GENERATE_SECRET_HINT } from './env-secret.js';
import { defineEnvTable, describeEnvTable, envObject } from './env-table.js';
import type { EnvVariableDescription, EnvVariableSpec } from './env-table.js';
import { envEnum, envString, envUrl, isHostOrIp } from './env-values.js';

/** Minimum length of `METRICS_TOKEN` in bytes. */
export const METRICS_TOKEN_MIN_BYTES = 24;

/** The log levels of pino, which `LOG_LEVEL` accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * A Bulwark variable. `requiredInProduction` makes an otherwise optional variable mandatory when
 * `NODE_ENV=production` (`{ unless }`: unless that other variable is set).
 */
export interface BulwarkEnvVariable extends EnvVariableSpec {
  readonly requiredInProduction?: true | { readonly unless: string };
}

const bulwarkTable = <const T extends Readonly<Record<string, BulwarkEnvVariable>>>(table: T): T => defineEnvTable(table);

export const BULWARK_ENV_VARIABLES = bulwarkTable({
  NODE_ENV: {
    schema: envEnum(['development', 'test', 'production'], { default: 'development' }),
    description: 'Deployment mode. `production` makes every secret mandatory and turns off development conveniences such as an ephemeral master key.',
    secret: false,
  },
  BULWARK_CONFIG: {
    schema: envString({ expects: 'the path of a bulwark.yaml file' }).optional(),
    description: 'Path of the gateway configuration file; `--config` on the command line takes precedence.',
    secret: false,
    example: './bulwark.yaml',
  },
  BULWARK_MASTER_KEY: {
    schema: envMasterKey().optional(),
    description:
      'Master key, base64url of at least 32 random bytes. Every other Bulwark key (API-key pepper, session and CSRF keys, encryption at rest, audit chain) is derived from it with HKDF-SHA256. Unset outside production: an ephemeral key is generated at each start.',
    secret: true,
    generate: generateMasterKey,
    requiredInProduction: true,
  },
  BULWARK_MASTER_KEY_PREVIOUS: {
    schema: envMasterKey().optional(),
    description: 'The master key being rotated out: still decrypts and verifies, never encrypts. Set only during a rotation (see docs/crypto.md).',
    secret: true,
  },
  REDIS_URL: {
    schema: envUrl({ protocols: ['redis', 'rediss'] }).optional(),
    description: 'Redis or Valkey for shared rate limits, replay caches, sessions, lockouts and revocation. Unset: in-process memory stores (one instance only).',
    secret: false,
    example: 'redis://127.0.0.1:6379',
  },
  DATABASE_URL: {
    schema: envUrl({ protocols: ['postgres', 'postgresql'], requireHost: false }).optional(),
    description: 'PostgreSQL for API keys and the audit log. Unset: embedded PGlite in BULWARK_DATA_DIR (same SQL, same migrations).',
    secret: false,
    example: 'postgres://bulwark@127.0.0.1:5432/bulwark',
  },
  BULWARK_DATA_DIR: {
    schema: envString({ expects: 'a directory path', default: '.bulwark' }),
    description: 'Directory for local state: the embedded database when DATABASE_URL is unset.',
    secret: false,
  },
  METRICS_TOKEN: {
    schema: envSecret({ minBytes: METRICS_TOKEN_MIN_BYTES }).optional(),
    description: `Bearer token that GET /metrics requires (Authorization: Bearer …), at least ${METRICS_TOKEN_MIN_BYTES} bytes.`,
    secret: true,
    generate: () => generateSecret(32),
    requiredInProduction: { unless: 'METRICS_ALLOWED_IPS' },
  },
  METRICS_ALLOWED_IPS: {
    schema: envCidrList().optional(),
    description: 'Addresses allowed to scrape GET /metrics: IPs, CIDR ranges and the presets loopback, private, linklocal, comma-separated. Unset: loopback only.',
    secret: false,
    example: 'loopback,10.0.0.0/8',
  },
  LOG_LEVEL: {
    schema: envEnum(LOG_LEVELS, { default: 'info' }),
    description: 'Minimum level of the JSON logs.',
    secret: false,
  },
  PORT: {
    // 0 as in the config file's server.port: the system picks a free port (logged at start).
    schema: envInteger({ min: 0, max: 65535, default: 8080 }),
    description: 'TCP port the gateway listens on; 0 picks a free one.',
    secret: false,
  },
  HOST: {
    schema: envString({ expects: 'an IP address or a host name', maxLength: 253, validate: isHostOrIp, default: '127.0.0.1' }),
    description: 'Address the gateway binds to. The default accepts local connections only; use 0.0.0.0 or :: in a container.',
    secret: false,
  },
  BULWARK_BREAKER_FAILURE_THRESHOLD: {
    schema: envInteger({ min: 1, max: 1000, default: 5 }),
    description: 'Default consecutive failures that open an upstream circuit breaker (per-upstream settings in the config file win).',
    secret: false,
  },
  BULWARK_BREAKER_RESET_TIMEOUT_MS: {
    schema: envDuration({ min: 100, max: 3_600_000, default: 30_000 }),
    description: 'Default time an open breaker waits before letting trial requests through.',
    secret: false,
  },
  BULWARK_BREAKER_HALF_OPEN_REQUESTS: {
    schema: envInteger({ min: 1, max: 100, default: 3 }),
    description: 'Default number of trial requests a half-open breaker lets through.',
    secret: false,
  },
});

export type BulwarkEnvName = keyof typeof BULWARK_ENV_VARIABLES;

/** Where the master key of a loaded environment came from. */
export type MasterKeySource = 'env' | 'ephemeral';

const isSet = (value: unknown): boolean => value !== undefined;

/**
 * Rules that involve several variables. They run even when some fields are invalid, so that every
 * problem is reported at once; they therefore read the raw object defensively.
 */
function checkAcrossVariables(value: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const production = value['NODE_ENV'] === 'production';
  for (const [name, spec] of Object.entries(BULWARK_ENV_VARIABLES) as [string, BulwarkEnvVariable][]) {
    const rule = spec.requiredInProduction;
    if (!production || rule === undefined || isSet(value[name])) continue;
    if (rule === true) {
      addEnvIssue(ctx, 'is required when NODE_ENV=production', spec.generate === undefined ? `Set ${name}.` : GENERATE_SECRET_HINT, [name]);
    } else if (!isSet(value[rule.unless])) {
      addEnvIssue(
        ctx,
        `is required when NODE_ENV=production unless ${rule.unless} is set`,
        `Set ${name}${spec.generate === undefined ? '' : ' (generate one with `npx bulwark secrets generate`)'}, or set ${rule.unless}, or both.`,
        [name],
      );
    }
  }
  const previous = value['BULWARK_MASTER_KEY_PREVIOUS'];
  if (typeof previous === 'string') {
    if (!isSet(value['BULWARK_MASTER_KEY'])) {
      addEnvIssue(ctx, 'is set but BULWARK_MASTER_KEY is not', 'During a rotation, set BULWARK_MASTER_KEY to the new key and BULWARK_MASTER_KEY_PREVIOUS to the old one (docs/crypto.md).', ['BULWARK_MASTER_KEY_PREVIOUS']);
    } else if (previous === value['BULWARK_MASTER_KEY']) {
      addEnvIssue(ctx, 'equals BULWARK_MASTER_KEY', 'Generate a new BULWARK_MASTER_KEY with `npx bulwark secrets generate`; the previous key must be the old one.', ['BULWARK_MASTER_KEY_PREVIOUS']);
    }
  }
}

/**
 * The Bulwark environment: validates every variable of {@link BULWARK_ENV_VARIABLES} and the rules
 * between them. In the result, `BULWARK_MASTER_KEY` is always set: outside production, when it is
 * unset, a fresh ephemeral key is generated and `masterKeySource` is `'ephemeral'` — the caller
 * must say so loudly, because data encrypted with it is unreadable after a restart.
 *
 * @example
 * const env = loadEnvOrExit(bulwarkEnvSchema);
 * if (env.masterKeySource === 'ephemeral') logger.warn({}, 'BULWARK_MASTER_KEY is not set: using an ephemeral key');
 */
export const bulwarkEnvSchema = envObject(BULWARK_ENV_VARIABLES)
  .superRefine(checkAcrossVariables, { when: () => true })
  .transform(({ BULWARK_MASTER_KEY, ...rest }) => ({
    ...rest,
    BULWARK_MASTER_KEY: BULWARK_MASTER_KEY ?? generateMasterKey(),
    masterKeySource: (BULWARK_MASTER_KEY === undefined ? 'ephemeral' : 'env') as MasterKeySource,
  }));

/** A row of {@link describeBulwarkEnv}: the generic description plus when production requires it. */
export interface BulwarkEnvVariableDescription extends EnvVariableDescription {
  /** `Required when NODE_ENV=production.` (and the exception, if any), or `undefined`. */
  readonly requirement: string | undefined;
}

/** The Bulwark variables as rows, in declaration order: for `secrets generate`, `.env.example` and docs. */
export function describeBulwarkEnv(): readonly BulwarkEnvVariableDescription[] {
  return describeEnvTable(BULWARK_ENV_VARIABLES).map((row) => {
    const rule = (BULWARK_ENV_VARIABLES[row.name as BulwarkEnvName] as BulwarkEnvVariable).requiredInProduction;
    const requirement = rule === undefined ? undefined : rule === true ? 'Required when NODE_ENV=production.' : `Required when NODE_ENV=production unless ${rule.unless} is set.`;
    return Object.freeze({ ...row, requirement });
  });
}

/** A loaded, frozen Bulwark environment. */
export type BulwarkEnv = Readonly<z.output<typeof bulwarkEnvSchema>>;
