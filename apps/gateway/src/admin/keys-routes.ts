import { createApiKeyAdmin, type CreateApiKeyInput } from 'bulwark/auth';
import { ApiError, errors } from 'bulwark/errors';
import { z } from 'zod';
import type { BuiltinRegistrar } from '../server/build-server.js';
import { authenticateAdmin, dependencyUnavailable, jsonBody, parseInput, queryOf, type AdminCaller, type AdminServices } from './admin-context.js';

const scope = z.string().regex(/^(?:\*|[A-Za-z0-9_.:-]{1,64}(?::\*)?)$/, 'expected a scope such as orders:read, orders:* or *');
const limit = z.strictObject({ limit: z.number().int().min(1).max(1_000_000_000), windowMs: z.number().int().min(1000).max(86_400_000) });

const createInput = z.strictObject({
  name: z.string().min(1).max(200),
  tenant: z.string().min(1).max(200),
  env: z.string().regex(/^[a-z0-9]{1,16}$/).optional(),
  scopes: z.array(scope).max(100).optional(),
  limits: z.array(limit).max(10).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  signing: z.discriminatedUnion('algorithm', [z.strictObject({ algorithm: z.literal('hmac-sha256') }), z.strictObject({ algorithm: z.literal('ed25519'), publicKey: z.string().min(32).max(2000) })]).optional(),
});

const rotateInput = z.strictObject({
  graceMs: z.number().int().min(0).max(30 * 86_400_000).optional(),
  publicKey: z.string().min(32).max(2000).optional(),
});

const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;


/** The validated body in the key store's terms (only the fields that were given). */
function toCreateInput(input: z.output<typeof createInput>): CreateApiKeyInput {
  const { expiresAt, env, scopes, limits, signing, ...required } = input;
  return {
    ...required,
    ...(env === undefined ? {} : { env }),
    ...(scopes === undefined ? {} : { scopes }),
    ...(limits === undefined ? {} : { limits }),
    ...(signing === undefined ? {} : { signing }),
    ...(expiresAt === undefined ? {} : { expiresAt: new Date(expiresAt) }),
  };
}

/** Invalid input found by the store is 400; anything else it throws is the database: 503. */
function storeError(error: unknown): never {
  if (error instanceof TypeError) throw new ApiError('BAD_REQUEST', { detail: error.message });
  throw dependencyUnavailable(error);
}

function actorOf(caller: AdminCaller): { actor: string; requestId: string; clientIp: string } {
  return { actor: caller.keyId, requestId: caller.requestId, clientIp: caller.clientIp };
}

function keyIdOf(params: unknown): string {
  const id = (params as { id?: unknown }).id;
  if (typeof id !== 'string' || !KEY_ID.test(id)) throw new ApiError('KEY_NOT_FOUND');
  return id;
}

/**
 * `/admin/keys`: create, list, get, rotate, revoke. Each change and its audit entry commit in one
 * transaction; revocations and rotations are broadcast so every instance drops the key within the
 * broadcast delay. A plain key (and an HMAC signing secret) is in the response of create and
 * rotate only — never stored, never logged, never in the audit entry.
 */
export function keysRoutes(prefix: string, services: AdminServices): BuiltinRegistrar {
  const { keyStore } = services;
  // bulwark/auth's key admin: each change and its audit entry in one transaction, then the broadcast.
  const keys = createApiKeyAdmin({ store: keyStore, audit: services.audit, sql: services.sql, revocation: services.revocation, logger: services.logger });
  return (server, builtin) => {
    server.post(
      `${prefix}/keys`,
      builtin('admin', async (context) => {
        const caller = await authenticateAdmin(services, context, 'api_key.create');
        const input = parseInput(createInput, await jsonBody(context));
        const created = await keys
          .create(toCreateInput(input), actorOf(caller))
          .catch(storeError);
        context.reply.code(201).header('cache-control', 'no-store');
        return { key: created.key, ...(created.signingSecret === undefined ? {} : { signingSecret: created.signingSecret }), record: created.record };
      }),
    );

    server.get(
      `${prefix}/keys`,
      builtin('admin', async (context) => {
        await authenticateAdmin(services, context, 'api_key.list');
        const query = queryOf(context);
        const one = (name: string): string | undefined => {
          const value = query[name];
          return typeof value === 'string' ? value : undefined;
        };
        const pageSize = one('limit') === undefined ? undefined : Number(one('limit'));
        if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 1000)) throw errors.validationFailed([{ path: 'limit', message: 'must be an integer from 1 to 1000' }]);
        const tenant = one('tenant');
        const cursor = one('cursor');
        return keyStore
          .list({ ...(tenant === undefined ? {} : { tenant }), includeRevoked: one('includeRevoked') === 'true', ...(pageSize === undefined ? {} : { limit: pageSize }), ...(cursor === undefined ? {} : { cursor }) })
          .catch(storeError);
      }),
    );

    server.get(
      `${prefix}/keys/:id`,
      builtin('admin', async (context) => {
        await authenticateAdmin(services, context, 'api_key.get');
        const record = await keyStore.get(keyIdOf(context.request.params)).catch((error: unknown) => {
          throw dependencyUnavailable(error);
        });
        if (record === undefined) throw new ApiError('KEY_NOT_FOUND');
        return { record };
      }),
    );

    server.post(
      `${prefix}/keys/:id/rotate`,
      builtin('admin', async (context) => {
        const caller = await authenticateAdmin(services, context, 'api_key.rotate');
        const id = keyIdOf(context.request.params);
        const input = parseInput(rotateInput, await jsonBody(context));
        const result = await keys.rotate(id, input, actorOf(caller)).catch(storeError);
        if (!result.ok) throw result.reason === 'not_found' ? new ApiError('KEY_NOT_FOUND') : new ApiError('CONFLICT', { detail: `The key is ${result.reason} and cannot be rotated.` });
        context.reply.header('cache-control', 'no-store');
        return { key: result.key, ...(result.signingSecret === undefined ? {} : { signingSecret: result.signingSecret }), record: result.record, previous: result.previous };
      }),
    );

    const revoke = builtin('admin', async (context) => {
      const caller = await authenticateAdmin(services, context, 'api_key.revoke');
      const id = keyIdOf(context.request.params);
      const result = await keys.revoke(id, actorOf(caller)).catch(storeError);
      if (!result.ok) throw result.reason === 'not_found' ? new ApiError('KEY_NOT_FOUND') : new ApiError('CONFLICT', { detail: 'The key is already revoked.' });
      return { record: result.record, revokedIds: result.revokedIds };
    });
    server.post(`${prefix}/keys/:id/revoke`, revoke);
    server.delete(`${prefix}/keys/:id`, revoke);
  };
}
