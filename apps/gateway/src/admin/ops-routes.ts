import { ApiError, errors } from 'bulwark/errors';
import type { BuiltinRegistrar } from '../server/build-server.js';
import { z } from 'zod';
import { limitDecisions } from './limit-decisions.js';
import { authenticateAdmin, dependencyUnavailable, entry, jsonBody, parseInput, queryOf, type AdminServices } from './admin-context.js';

const revokeSessionsInput = z.strictObject({ tenant: z.string().min(1).max(200), userId: z.string().min(1).max(200) });

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const OUTCOMES = new Set(['success', 'failure', 'denied']);

function nameOf(params: unknown, field: string): string {
  const value = (params as Record<string, unknown>)[field];
  if (typeof value !== 'string' || !NAME.test(value)) throw new ApiError('NOT_FOUND');
  return value;
}

/** Appends an audit entry for a change that has no transaction of its own (breakers, limits). */
async function record(services: AdminServices, input: Parameters<AdminServices['audit']['append']>[0]): Promise<void> {
  await services.audit.append(input).catch((error: unknown) => {
    throw dependencyUnavailable(error);
  });
}

/**
 * `/admin/breakers` (state and recent transitions, force open, close), `/admin/limits` (decisions by
 * result, inspect a key, reset a key),
 * `/admin/sessions/revoke` (every session of a user) and `/admin/audit` (query, verify). Changes are audited; an audit log that cannot be written refuses
 * the change (503) — the entry is written first, so no change goes unrecorded.
 */
export function opsRoutes(prefix: string, services: AdminServices): BuiltinRegistrar {
  const { breakers, limiters, audit } = services;
  return (server, builtin) => {
    server.get(
      `${prefix}/breakers`,
      builtin('admin', async (context) => {
        await authenticateAdmin(services, context, 'breaker.list');
        services.transitions.sync();
        return { breakers: Object.fromEntries([...breakers.entries()].map(([name, breaker]) => [name, { ...breaker.snapshot(), transitions: services.transitions.of(name) }])) };
      }),
    );
    for (const action of ['open', 'close'] as const) {
      server.post(
        `${prefix}/breakers/:name/${action}`,
        builtin('admin', async (context) => {
          const caller = await authenticateAdmin(services, context, `breaker.${action}`);
          const name = nameOf(context.request.params, 'name');
          const breaker = breakers.get(name);
          if (breaker === undefined) throw new ApiError('NOT_FOUND', { detail: `No upstream breaker named ${name}.` });
          await record(services, entry(caller, `breaker.${action}`, { target: name, input: { from: breaker.state } }));
          // `open` holds the breaker open until an explicit close; `close` resets it to normal.
          if (action === 'open') breaker.isolate();
          else breaker.reset();
          return { breaker: breaker.snapshot() };
        }),
      );
    }

    server.get(
      `${prefix}/limits`,
      builtin('admin', async (context) => {
        await authenticateAdmin(services, context, 'ratelimit.list');
        const activity = await limitDecisions(services.registry);
        return { limits: limiters.names().map((name) => ({ name, policy: limiters.get(name)?.policy, ...activity(name) })) };
      }),
    );
    server.get(
      `${prefix}/limits/:name/keys/:key`,
      builtin('admin', async (context) => {
        await authenticateAdmin(services, context, 'ratelimit.inspect');
        const name = nameOf(context.request.params, 'name');
        const limiter = limiters.get(name);
        if (limiter === undefined) throw new ApiError('NOT_FOUND', { detail: `No rate limit named ${name}.` });
        const key = keyOf(context.request.params);
        const decision = await limiter.peek(key);
        return { limit: name, key, remaining: decision.remaining, resetMs: decision.resetMs, reason: decision.reason };
      }),
    );
    server.delete(
      `${prefix}/limits/:name/keys/:key`,
      builtin('admin', async (context) => {
        const caller = await authenticateAdmin(services, context, 'ratelimit.reset');
        const name = nameOf(context.request.params, 'name');
        const limiter = limiters.get(name);
        if (limiter === undefined) throw new ApiError('NOT_FOUND', { detail: `No rate limit named ${name}.` });
        const key = keyOf(context.request.params);
        await record(services, entry(caller, 'ratelimit.reset', { target: `${name}/${key}` }));
        await limiter.reset(key).catch((error: unknown) => {
          throw dependencyUnavailable(error);
        });
        return { limit: name, key, reset: true };
      }),
    );

    server.post(
      `${prefix}/sessions/revoke`,
      builtin('admin', async (context) => {
        const caller = await authenticateAdmin(services, context, 'session.revoke_all');
        const subject = parseInput(revokeSessionsInput, await jsonBody(context));
        await record(services, entry(caller, 'session.revoke_all', { target: `${subject.tenant}/${subject.userId}` }));
        const revoked = await services.sessions.revokeAll(subject).catch((error: unknown) => {
          throw dependencyUnavailable(error);
        });
        return { revoked };
      }),
    );

    server.get(
      `${prefix}/audit`,
      builtin('admin', async (context) => {
        await authenticateAdmin(services, context, 'audit.query');
        const query = queryOf(context);
        const one = (name: string): string | undefined => {
          const value = query[name];
          return typeof value === 'string' && value !== '' ? value : undefined;
        };
        const date = (name: string): Date | undefined => {
          const value = one(name);
          if (value === undefined) return undefined;
          const parsed = new Date(value);
          if (Number.isNaN(parsed.getTime())) throw errors.validationFailed([{ path: name, message: 'expected an ISO 8601 date' }]);
          return parsed;
        };
        const outcome = one('outcome');
        if (outcome !== undefined && !OUTCOMES.has(outcome)) throw errors.validationFailed([{ path: 'outcome', message: 'expected success, failure or denied' }]);
        const pageSize = one('limit') === undefined ? undefined : Number(one('limit'));
        if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 1000)) throw errors.validationFailed([{ path: 'limit', message: 'must be an integer from 1 to 1000' }]);
        const filters = {
          action: one('action'),
          actor: one('actor'),
          target: one('target'),
          outcome: outcome as 'success' | 'failure' | 'denied' | undefined,
          since: date('since'),
          until: date('until'),
          limit: pageSize,
          cursor: one('cursor'),
        };
        const defined = Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined));
        return audit.query(defined).catch((error: unknown) => {
          if (error instanceof TypeError) throw new ApiError('BAD_REQUEST', { detail: error.message });
          throw dependencyUnavailable(error);
        });
      }),
    );
    server.post(
      `${prefix}/audit/verify`,
      builtin('admin', async (context) => {
        await authenticateAdmin(services, context, 'audit.verify');
        return audit.verify().catch((error: unknown) => {
          throw dependencyUnavailable(error);
        });
      }),
    );
  };
}

function keyOf(params: unknown): string {
  const value = (params as Record<string, unknown>).key;
  if (typeof value !== 'string' || value.length === 0 || value.length > 300) throw new ApiError('NOT_FOUND');
  return value;
}
