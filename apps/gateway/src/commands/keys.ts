import { userInfo } from 'node:os';
import type { ApiKeyRecord } from 'bulwark/auth';
import { parseDurationMs } from '../config/units.js';
import type { CliCommand, CommandContext } from '../cli.js';
import { openOfflineStore, type OfflineStore } from './offline-store.js';

/** Who the audit log names for changes made from the command line. */
function actor(): { actor: string } {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No user database entry (a container): the actor stays `cli:unknown`.
  }
  return { actor: `cli:${user}` };
}

export const configOption = { config: { type: 'string' } } as const;

export async function withStore(context: CommandContext, run: (store: OfflineStore) => Promise<number>): Promise<number> {
  const { io, cwd, values } = context;
  const opened = await openOfflineStore(io.env, cwd, typeof values['config'] === 'string' ? values['config'] : undefined, (message) => io.stderr.write(`warning: ${message}\n`));
  if (!opened.ok) {
    io.stderr.write(`${opened.message.trimEnd()}\n`);
    return 1;
  }
  try {
    return await run(opened.store);
  } finally {
    await opened.store.close();
  }
}

function strings(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string');
}

/** An ISO 8601 date (UTC midnight) or date-time with `Z` or an offset: a local time would depend on this machine's zone. */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * `--expires` as a Date, or undefined when it is not an ISO 8601 instant in the future. `new Date()`
 * alone would read "90" (meant as days) as 1990 and "Dec 31" as 2001: a key expired on creation.
 */
function parseExpiry(text: string, nowMs: number): Date | undefined {
  const match = ISO_INSTANT.exec(text);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Date rolls 2026-02-30 over into March instead of refusing it.
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
  const expires = new Date(text);
  return Number.isNaN(expires.getTime()) || expires.getTime() <= nowMs ? undefined : expires;
}

function describeRecord(record: ApiKeyRecord): string {
  const state = record.revokedAt !== null ? 'revoked' : record.graceUntil !== null ? `rotated (works until ${record.graceUntil.toISOString()})` : 'active';
  return `${record.id}  ${record.displayPrefix}…  tenant=${record.tenant}  scopes=${record.scopes.join(',') || '-'}  ${state}  "${record.name}"`;
}

export const SHARED_HELP = [
  '  --config <file>    read the database and Redis from this config (default: BULWARK_CONFIG, DATABASE_URL, REDIS_URL)',
  '',
  'Needs BULWARK_MASTER_KEY (the gateway\'s). Every change is written to the audit log with the',
  'change, and broadcast to running gateways when Redis is configured. With the embedded database,',
  'stop the gateway first or use its admin API (PGlite files are used by one process at a time).',
].join('\n');

/** `bulwark keys create | list | rotate | revoke`. */
export function createKeysCommands(): CliCommand[] {
  return [
    {
      name: 'keys create',
      summary: 'Create an API key (printed once)',
      synopsis: '--name <name> --tenant <tenant> [--scope <scope>]… [--env live] [--expires <ISO date>] [--signing hmac-sha256]',
      help: ['Options:', '  --name, --tenant   required', '  --scope            a granted scope (repeatable): orders:read, orders:*, *', '  --env              the key environment segment (default live)', '  --expires          expiry, ISO 8601 (2030-12-31, 2030-12-31T18:00:00Z); in the future', '  --signing          also a request-signing key (hmac-sha256): its secret is printed once', SHARED_HELP].join('\n'),
      options: { ...configOption, name: { type: 'string' }, tenant: { type: 'string' }, scope: { type: 'string', multiple: true }, env: { type: 'string' }, expires: { type: 'string' }, signing: { type: 'string' } },
      run: (context) =>
        withStore(context, async (store) => {
          const { values, io } = context;
          const name = values['name'];
          const tenant = values['tenant'];
          if (typeof name !== 'string' || typeof tenant !== 'string') {
            io.stderr.write('bulwark keys create: --name and --tenant are required\n');
            return 2;
          }
          const expires = typeof values['expires'] === 'string' ? parseExpiry(values['expires'], Date.now()) : undefined;
          if (expires === undefined && values['expires'] !== undefined) {
            io.stderr.write('bulwark keys create: --expires must be an ISO 8601 date or date-time with Z or an offset, in the future (2030-12-31, 2030-12-31T18:00:00+02:00)\n');
            return 2;
          }
          if (values['signing'] !== undefined && values['signing'] !== 'hmac-sha256') {
            io.stderr.write('bulwark keys create: --signing takes hmac-sha256 (ed25519 keys are created through the admin API with their public key)\n');
            return 2;
          }
          try {
            const created = await store.admin.create(
              {
                name,
                tenant,
                scopes: strings(values['scope']),
                ...(typeof values['env'] === 'string' ? { env: values['env'] } : {}),
                ...(expires === undefined ? {} : { expiresAt: expires }),
                ...(values['signing'] === 'hmac-sha256' ? { signing: { algorithm: 'hmac-sha256' as const } } : {}),
              },
              actor(),
            );
            io.stdout.write(`${describeRecord(created.record)}\n\nkey (shown once): ${created.key}\n${created.signingSecret === undefined ? '' : `signing secret (shown once): ${created.signingSecret}\n`}`);
            return 0;
          } catch (error) {
            io.stderr.write(`bulwark keys create: ${(error as Error).message}\n`);
            return 1;
          }
        }),
    },
    {
      name: 'keys list',
      summary: 'List API keys (never the keys themselves)',
      synopsis: '[--tenant <tenant>] [--all]',
      help: ['Options:', '  --tenant   only this tenant', '  --all      include revoked keys', SHARED_HELP].join('\n'),
      options: { ...configOption, tenant: { type: 'string' }, all: { type: 'boolean' } },
      run: (context) =>
        withStore(context, async (store) => {
          const { values, io } = context;
          let cursor: string | undefined;
          let count = 0;
          do {
            const page = await store.keyStore.list({
              ...(typeof values['tenant'] === 'string' ? { tenant: values['tenant'] } : {}),
              includeRevoked: values['all'] === true,
              limit: 1000,
              ...(cursor === undefined ? {} : { cursor }),
            });
            for (const record of page.records) io.stdout.write(`${describeRecord(record)}\n`);
            count += page.records.length;
            cursor = page.nextCursor;
          } while (cursor !== undefined);
          io.stdout.write(`${count} key${count === 1 ? '' : 's'}\n`);
          return 0;
        }),
    },
    {
      name: 'keys rotate',
      summary: 'Issue a new secret for a key; the old one works during a grace period',
      synopsis: '<key id> [--grace 24h]',
      allowPositionals: true,
      help: ['Options:', '  --grace    how long the old key keeps working (default 24h; 0 ends it now)', SHARED_HELP].join('\n'),
      options: { ...configOption, grace: { type: 'string' } },
      run: (context) =>
        withStore(context, async (store) => {
          const { values, io, positionals } = context;
          const id = positionals[0];
          if (id === undefined || positionals.length !== 1) {
            io.stderr.write('bulwark keys rotate: give exactly one key id\n');
            return 2;
          }
          const grace = typeof values['grace'] === 'string' ? (values['grace'] === '0' ? 0 : parseDurationMs(values['grace'])) : undefined;
          if (grace === undefined && values['grace'] !== undefined) {
            io.stderr.write('bulwark keys rotate: --grace takes a duration such as 1h or 24h\n');
            return 2;
          }
          const result = await store.admin.rotate(id, grace === undefined ? {} : { graceMs: grace }, actor());
          if (!result.ok) {
            io.stderr.write(`bulwark keys rotate: ${id} is ${result.reason.replace('_', ' ')}\n`);
            return 1;
          }
          io.stdout.write(`${describeRecord(result.record)}\n\nkey (shown once): ${result.key}\n${result.signingSecret === undefined ? '' : `signing secret (shown once): ${result.signingSecret}\n`}the previous key works until ${result.previous.graceUntil?.toISOString() ?? 'now'}\n`);
          return 0;
        }),
    },
    {
      name: 'keys revoke',
      summary: 'Revoke a key (and its predecessors still in grace)',
      synopsis: '<key id>',
      allowPositionals: true,
      help: SHARED_HELP,
      options: { ...configOption },
      run: (context) =>
        withStore(context, async (store) => {
          const { io, positionals } = context;
          const id = positionals[0];
          if (id === undefined || positionals.length !== 1) {
            io.stderr.write('bulwark keys revoke: give exactly one key id\n');
            return 2;
          }
          const result = await store.admin.revoke(id, actor());
          if (!result.ok) {
            io.stderr.write(`bulwark keys revoke: ${id} is ${result.reason.replace('_', ' ')}\n`);
            return 1;
          }
          io.stdout.write(`revoked ${result.revokedIds.join(', ')}\n`);
          return 0;
        }),
    },
  ];
}
