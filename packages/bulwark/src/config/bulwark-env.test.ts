import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateMasterKey, parseMasterKey } from '../crypto/master-key.js';
import { generateSecret } from '../crypto/generate-secret.js';
import { BULWARK_ENV_VARIABLES, bulwarkEnvSchema } from './bulwark-env.js';
import { formatDotenv } from './dotenv.js';
import { describeEnvTable } from './env-table.js';
import { formatEnvIssues, loadEnv } from './load-env.js';
import type { EnvSource } from './load-env.js';

function issuesOf(source: EnvSource) {
  const result = loadEnv(bulwarkEnvSchema, source);
  if (result.ok) throw new Error('expected the environment to be refused');
  return result.issues;
}

function envOf(source: EnvSource) {
  const result = loadEnv(bulwarkEnvSchema, source);
  if (!result.ok) throw new Error(formatEnvIssues(result.issues));
  return result.env;
}

/** What `bulwark secrets generate` produces: every generatable secret. */
function generatedSecrets(): Record<string, string> {
  return Object.fromEntries(describeEnvTable(BULWARK_ENV_VARIABLES).flatMap((row) => (row.generate === undefined ? [] : [[row.name, row.generate()]])));
}

describe('bulwarkEnvSchema: defaults', () => {
  it('starts in development on an empty environment with an ephemeral master key', () => {
    const env = envOf({});
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      BULWARK_DATA_DIR: '.bulwark',
      LOG_LEVEL: 'info',
      PORT: 8080,
      HOST: '127.0.0.1',
      BULWARK_BREAKER_FAILURE_THRESHOLD: 5,
      BULWARK_BREAKER_RESET_TIMEOUT_MS: 30_000,
      BULWARK_BREAKER_HALF_OPEN_REQUESTS: 3,
      masterKeySource: 'ephemeral',
    });
    expect(parseMasterKey(env.BULWARK_MASTER_KEY)).toHaveLength(32);
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.METRICS_TOKEN).toBeUndefined();
  });

  it('generates a different ephemeral key on every load', () => {
    expect(envOf({}).BULWARK_MASTER_KEY).not.toBe(envOf({}).BULWARK_MASTER_KEY);
  });

  it('reports a configured master key as coming from the environment', () => {
    const key = generateMasterKey();
    const env = envOf({ BULWARK_MASTER_KEY: key });
    expect(env.masterKeySource).toBe('env');
    expect(env.BULWARK_MASTER_KEY).toBe(key);
  });

  it('freezes the environment', () => {
    const env = envOf({ METRICS_ALLOWED_IPS: '10.0.0.0/8' });
    expect(Object.isFrozen(env)).toBe(true);
    expect(Object.isFrozen(env.METRICS_ALLOWED_IPS)).toBe(true);
  });

  it('parses every variable', () => {
    const env = envOf({
      NODE_ENV: 'test',
      BULWARK_CONFIG: './bulwark.yaml',
      REDIS_URL: 'rediss://cache:6380',
      DATABASE_URL: 'postgres://bulwark@127.0.0.1:5432/bulwark',
      BULWARK_DATA_DIR: '/var/lib/bulwark',
      METRICS_ALLOWED_IPS: 'loopback, 10.0.0.0/8',
      LOG_LEVEL: 'debug',
      PORT: '9000',
      HOST: '::',
      BULWARK_BREAKER_FAILURE_THRESHOLD: '10',
      BULWARK_BREAKER_RESET_TIMEOUT_MS: '1m',
      BULWARK_BREAKER_HALF_OPEN_REQUESTS: '1',
    });
    expect(env).toMatchObject({ NODE_ENV: 'test', PORT: 9000, HOST: '::', BULWARK_BREAKER_RESET_TIMEOUT_MS: 60_000, METRICS_ALLOWED_IPS: ['loopback', '10.0.0.0/8'] });
  });

  it('accepts PORT=0 (a free port), as the config file accepts server.port: 0', () => {
    expect(envOf({ NODE_ENV: 'test', PORT: '0' }).PORT).toBe(0);
  });
});

describe('bulwarkEnvSchema: production', () => {
  it('refuses to start without a master key, naming it and printing no secret', () => {
    const token = generateSecret();
    const issues = issuesOf({ NODE_ENV: 'production', METRICS_TOKEN: token });
    expect(issues).toEqual([{ variable: 'BULWARK_MASTER_KEY', problem: 'is required when NODE_ENV=production', fix: expect.stringContaining('bulwark secrets generate') }]);
    expect(formatEnvIssues(issues)).not.toContain(token);
  });

  it('requires METRICS_TOKEN unless METRICS_ALLOWED_IPS is set', () => {
    const key = generateMasterKey();
    const issues = issuesOf({ NODE_ENV: 'production', BULWARK_MASTER_KEY: key });
    expect(issues.map((issue) => issue.variable)).toEqual(['METRICS_TOKEN']);
    expect(issues[0]?.problem).toContain('unless METRICS_ALLOWED_IPS is set');
    expect(issues[0]?.fix).toContain('METRICS_ALLOWED_IPS');
    expect(envOf({ NODE_ENV: 'production', BULWARK_MASTER_KEY: key, METRICS_ALLOWED_IPS: '10.0.0.0/8' }).METRICS_TOKEN).toBeUndefined();
  });

  it('starts with the output of secrets generate', () => {
    const env = envOf({ NODE_ENV: 'production', ...generatedSecrets() });
    expect(env.masterKeySource).toBe('env');
  });

  it('generates exactly the secrets, and nothing that is not one', () => {
    const rows = describeEnvTable(BULWARK_ENV_VARIABLES);
    expect(rows.filter((row) => row.generate !== undefined).map((row) => row.name)).toEqual(['BULWARK_MASTER_KEY', 'METRICS_TOKEN']);
    for (const row of rows) if (row.generate !== undefined) expect(row.secret).toBe(true);
  });

  it('reports every problem at once: missing secrets, placeholders and malformed values together', () => {
    const issues = issuesOf({ NODE_ENV: 'production', METRICS_TOKEN: 'changeme', PORT: '80a', REDIS_URL: 'http://cache', BULWARK_BREAKER_RESET_TIMEOUT_MS: '10' });
    expect(issues.map((issue) => issue.variable).sort()).toEqual(['BULWARK_BREAKER_RESET_TIMEOUT_MS', 'BULWARK_MASTER_KEY', 'METRICS_TOKEN', 'PORT', 'REDIS_URL']);
    const text = formatEnvIssues(issues);
    expect(text).not.toContain('changeme');
    expect(text).toContain('Invalid environment: 5 problems.');
  });

  it('refuses a weak master key in any mode, never echoing it', () => {
    for (const mode of ['development', 'production']) {
      const weak = Buffer.alloc(32, 7).toString('base64url');
      const issues = issuesOf({ NODE_ENV: mode, BULWARK_MASTER_KEY: weak, METRICS_ALLOWED_IPS: 'loopback' });
      expect(issues.map((issue) => issue.variable)).toEqual(['BULWARK_MASTER_KEY']);
      expect(JSON.stringify(issues)).not.toContain(weak);
    }
  });
});

describe('bulwarkEnvSchema: rotation', () => {
  it('accepts a previous key next to a new one', () => {
    const previous = generateMasterKey();
    expect(envOf({ BULWARK_MASTER_KEY: generateMasterKey(), BULWARK_MASTER_KEY_PREVIOUS: previous }).BULWARK_MASTER_KEY_PREVIOUS).toBe(previous);
  });

  it('refuses a previous key without a current one, even outside production', () => {
    expect(issuesOf({ BULWARK_MASTER_KEY_PREVIOUS: generateMasterKey() }).map((issue) => [issue.variable, issue.problem])).toEqual([
      ['BULWARK_MASTER_KEY_PREVIOUS', 'is set but BULWARK_MASTER_KEY is not'],
    ]);
  });

  it('refuses a previous key equal to the current one', () => {
    const key = generateMasterKey();
    expect(issuesOf({ BULWARK_MASTER_KEY: key, BULWARK_MASTER_KEY_PREVIOUS: key }).map((issue) => issue.problem)).toEqual(['equals BULWARK_MASTER_KEY']);
  });
});

describe('bulwarkEnvSchema: refusals', () => {
  it.each([
    ['NODE_ENV', 'prod'],
    ['NODE_ENV', 'Production'],
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', '8080.0'],
    ['HOST', '0.0.0.0:8080'],
    ['LOG_LEVEL', 'verbose'],
    ['REDIS_URL', 'redis:/missing-slash'],
    ['DATABASE_URL', 'mysql://db/bulwark'],
    ['METRICS_ALLOWED_IPS', '10.0.0.0/8;10.1.0.0/16'],
    ['METRICS_TOKEN', 'too-short-9fQ2'],
    ['BULWARK_BREAKER_FAILURE_THRESHOLD', '1001'],
    ['BULWARK_BREAKER_RESET_TIMEOUT_MS', '99'],
    ['BULWARK_BREAKER_RESET_TIMEOUT_MS', '2h'],
    ['BULWARK_BREAKER_HALF_OPEN_REQUESTS', '0'],
    ['BULWARK_DATA_DIR', ''],
    ['BULWARK_CONFIG', 'bulwark\u0000.yaml'],
  ])('refuses %s=%j', (variable, value) => {
    expect(issuesOf({ [variable]: value }).map((issue) => issue.variable)).toEqual([variable]);
  });
});

describe('BULWARK_ENV_VARIABLES', () => {
  it('describes every variable of DESIGN.md, each with a description', () => {
    const names = describeEnvTable(BULWARK_ENV_VARIABLES).map((row) => row.name);
    for (const name of ['NODE_ENV', 'BULWARK_CONFIG', 'BULWARK_MASTER_KEY', 'BULWARK_MASTER_KEY_PREVIOUS', 'REDIS_URL', 'DATABASE_URL', 'BULWARK_DATA_DIR', 'METRICS_TOKEN', 'METRICS_ALLOWED_IPS', 'LOG_LEVEL', 'PORT', 'HOST']) {
      expect(names).toContain(name);
    }
    for (const row of describeEnvTable(BULWARK_ENV_VARIABLES)) {
      expect(row.description.length).toBeGreaterThan(10);
      expect(row.expects).toBeDefined();
    }
  });

  it('renders a .env.example that loads back', () => {
    const rows = describeEnvTable(BULWARK_ENV_VARIABLES).filter((row) => !row.secret && (row.defaultText ?? row.example) !== undefined);
    const text = formatDotenv(rows.map((row) => ({ name: row.name, value: row.defaultText ?? row.example ?? '', comment: row.description })));
    const env = envOf(parseEnv(text));
    expect(env.PORT).toBe(8080);
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });
});
