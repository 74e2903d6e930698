/**
 * Writes .env.example from the environment schema: every Bulwark variable of
 * `BULWARK_ENV_VARIABLES` (packages/bulwark/src/config/bulwark-env.ts), then the variables the
 * docker compose deployment adds, each once, with what it is, its default and, for secrets, how to
 * generate one. test/ops/env-example.test.ts fails when the file is stale.
 *
 *   npx tsx --conditions=bulwark-source deploy/scripts/generate-env-example.ts [--check]
 *
 * Every assignment is commented out, and secrets are empty: a copied .env.example sets nothing by
 * accident (an `EnvironmentFile=` overrides the unit's `Environment=NODE_ENV=production`, an empty
 * secret is refused at start-up), and `npx bulwark secrets generate >> .env` can follow without
 * duplicating a variable.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { defineEnvTable, describeBulwarkEnv, describeEnvTable, envSecret, formatDotenv, GENERATE_SECRET_HINT, type EnvVariableDescription } from 'bulwark/config';
import { isMainModule, REPO_ROOT, writeOrCheck } from './generated-file.js';

export const ENV_EXAMPLE_PATH = join(REPO_ROOT, '.env.example');

/** How to generate a compose secret: hex, which can go into REDIS_URL and DATABASE_URL unescaped. */
const opensslHint = (row: Row): string => {
  const bytes = row.name === 'GRAFANA_ADMIN_PASSWORD' ? 16 : 32;
  return `Generate one with \`openssl rand -hex ${bytes}\` and keep it in your secret manager, not in the repository.`;
};

/**
 * The variables deploy/compose/docker-compose.yml reads besides Bulwark's own: the passwords of the
 * services it runs. Declared as an env table like Bulwark's, so that they are described once.
 */
export const COMPOSE_ENV_VARIABLES = defineEnvTable({
  REDIS_PASSWORD: {
    schema: envSecret({ minBytes: 32 }),
    description: 'Password of the `bulwark` Redis ACL user (deploy/compose/redis/entrypoint.sh); the gateways get it inside REDIS_URL, so letters, digits, - and _ only, at least 32 characters.',
    secret: true,
    generate: () => randomBytes(32).toString('hex'),
  },
  POSTGRES_PASSWORD: {
    schema: envSecret({ minBytes: 32 }),
    description: 'Password of the `bulwark` PostgreSQL role (SCRAM-SHA-256); the gateways get it inside DATABASE_URL.',
    secret: true,
    generate: () => randomBytes(32).toString('hex'),
  },
  GRAFANA_ADMIN_PASSWORD: {
    schema: envSecret({ minBytes: 16 }),
    description: "Password of Grafana's `admin` user.",
    secret: true,
    generate: () => randomBytes(16).toString('hex'),
  },
});

interface Row extends EnvVariableDescription {
  readonly requirement?: string | undefined;
}

interface Section {
  readonly title: string;
  readonly rows: readonly Row[];
  /** The hint printed under a secret that can be generated. */
  readonly generateHint: (row: Row) => string;
}

function commentOf(row: Row, section: Section): string {
  const lines = [row.description];
  if (row.requirement !== undefined) lines.push(row.requirement);
  if (row.expects !== undefined) lines.push(`Expects ${row.expects}.`);
  if (row.defaultText !== undefined) lines.push(`Default: ${row.defaultText}.`);
  if (row.secret) lines.push(row.generate === undefined ? 'Secret, not generated: it takes the value described above.' : `Secret. ${section.generateHint(row)}`);
  return lines.join('\n');
}

/** One variable: its comment, then its assignment commented out (empty for a secret). */
function block(row: Row, section: Section): string {
  const value = row.secret ? '' : (row.defaultText ?? row.example ?? '');
  const lines = formatDotenv([{ name: row.name, value, comment: commentOf(row, section) }]).trimEnd().split('\n');
  const assignment = lines.pop() ?? '';
  return [...lines, `# ${assignment}`].join('\n');
}

const HEADER = [
  '# Bulwark environment — a template. Generated from the environment schema by',
  '# deploy/scripts/generate-env-example.ts: do not edit by hand.',
  '#',
  '# Every assignment below is commented out and shows the default (or an example); secrets are empty.',
  '# Copy the file, uncomment what you set, and add the secrets:',
  '#',
  '#   cp .env.example .env',
  '#   npx bulwark secrets generate >> .env      # BULWARK_MASTER_KEY, METRICS_TOKEN',
  '#   npx bulwark check --env-file .env          # validates everything, names every problem',
  '#',
  '# Never commit .env (it is in .gitignore). In production, prefer your secret manager; see',
  '# docs/deploy.md and docs/config.md.',
].join('\n');

/** The file's exact text. */
export function renderEnvExample(): string {
  const sections: Section[] = [
    { title: 'Bulwark', rows: describeBulwarkEnv(), generateHint: () => GENERATE_SECRET_HINT },
    { title: 'docker compose only (deploy/compose/docker-compose.yml): the passwords of the services it runs', rows: describeEnvTable(COMPOSE_ENV_VARIABLES), generateHint: opensslHint },
  ];
  const rule = `# ${'-'.repeat(98)}`;
  const body = sections.map((section) => [rule, `# ${section.title}`, rule, '', section.rows.map((row) => block(row, section)).join('\n\n')].join('\n'));
  return `${HEADER}\n\n${body.join('\n\n\n')}\n`;
}

if (isMainModule(import.meta.url)) process.exitCode = await writeOrCheck(ENV_EXAMPLE_PATH, renderEnvExample, process.argv.slice(2));
