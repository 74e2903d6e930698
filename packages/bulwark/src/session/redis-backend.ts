/**
 * The Redis session backend: every operation one Lua script (see lua.ts), sent by the
 * {@link ScriptBatcher} (EVALSHA, batched per tick, NOSCRIPT reload, a deadline per call).
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type {
  Binding,
  CreateInput,
  LockOutcome,
  LockPolicy,
  ReadOutcome,
  RotateInput,
  RotateOutcome,
  SessionBackend,
  SessionRef,
  StoredSession,
  UpdateOutcome,
  UserRef,
  ValidateInput,
  ValidateOutcome,
} from './backend.js';
import { SESSION_SCRIPTS, type SessionScriptName } from './lua.js';
import { ScriptBatcher, type LoadedScript } from './script-batcher.js';

export interface RedisBackendOptions {
  readonly client: Redis | Cluster;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
}

type Reply = readonly (string | number | null)[];

export function createRedisBackend(options: RedisBackendOptions): SessionBackend {
  const { client, keyPrefix, timeoutMs } = options;
  const scripts = new Map<SessionScriptName, LoadedScript>();
  for (const [name, script] of Object.entries(SESSION_SCRIPTS) as [SessionScriptName, { keys: number; source: string }][]) {
    scripts.set(name, { ...script, sha: createHash('sha1').update(script.source).digest('hex') });
  }

  const base = (tag: string): string => `${keyPrefix}{${tag}}:`;
  // ioredis adds its own `keyPrefix` option to declared keys only; keys the scripts build from the
  // base they are given must carry it too.
  const clientPrefix = (client.options as { readonly keyPrefix?: string } | undefined)?.keyPrefix ?? '';
  const sessionKey = (ref: SessionRef): string => `${base(ref.tag)}s:${ref.id}`;
  const lockKeys = (user: UserRef): [string, string] => [`${base(user.tag)}l:${user.lockId}`, `${base(user.tag)}l:${user.previousLockId}`];
  const indexKey = (user: UserRef): string => `${base(user.tag)}i`;

  const batcher = new ScriptBatcher(client, timeoutMs);
  const run = (name: SessionScriptName, keys: readonly string[], tag: string, now: number, args: readonly (string | number)[]): Promise<unknown> =>
    batcher.run(scripts.get(name) as LoadedScript, [...keys, `${clientPrefix}${base(tag)}`, now, ...args]);

  return {
    async create(ref, input: CreateInput) {
      const { binding } = input;
      const reply = (await run('create', [sessionKey(ref), ...lockKeys(ref), indexKey(ref)], ref.tag, input.now, [
        ref.id,
        input.tenant,
        input.userId,
        input.idleExpiresAt,
        input.absoluteExpiresAt,
        binding.ipMode,
        binding.ipHashes[0] ?? '',
        binding.fingerprintMode,
        binding.fingerprint,
        input.data,
        input.maxPerUser,
      ])) as Reply;
      return reply[0] === 'locked' ? 'locked' : 'ok';
    },

    async validate(ref, input: ValidateInput): Promise<ValidateOutcome> {
      const { binding, policy } = input;
      // The hot path has its own compact calling convention (see lua.ts): the previous lockout key
      // only during a key rotation, base and id taken from the session key.
      const keys = ref.previousLockId === ref.lockId ? [sessionKey(ref), lockKeys(ref)[0]] : [sessionKey(ref), ...lockKeys(ref)];
      const argv = [...keys, input.now, input.idleMs, ...bindingArgs(binding), input.countMismatch ? packedPolicy(policy) : '', input.touchMs];
      const reply = (await batcher.run(scripts.get('validate') as LoadedScript, argv, keys.length)) as Reply;
      const status = reply[0];
      if (status === 'valid') {
        const followed = String(reply[6] ?? '');
        return { kind: 'valid', record: compactRecord(reply, followed === '' ? ref.id : followed), viaPointer: followed !== '' };
      }
      if (status === 'ip_mismatch' || status === 'fingerprint_mismatch') return { kind: status, lockStarted: Number(reply[1]) === 1 };
      if (status === 'locked' || status === 'expired') return { kind: status };
      return { kind: 'not_found' };
    },

    async read(ref, now): Promise<ReadOutcome> {
      const reply = (await run('read', [sessionKey(ref)], ref.tag, now, [ref.id])) as Reply;
      return reply[0] === 'found' ? { kind: 'found', record: record(reply) } : missing(reply[0]);
    },

    async update(ref, input): Promise<UpdateOutcome> {
      const reply = (await run('update', [sessionKey(ref)], ref.tag, input.now, [ref.id, input.idleMs, input.expectedVersion, input.data])) as Reply;
      if (reply[0] === 'ok') return { kind: 'ok', record: record(reply) };
      return reply[0] === 'version_conflict' ? { kind: 'version_conflict' } : missing(reply[0]);
    },

    async rotate(ref, input: RotateInput): Promise<RotateOutcome> {
      const { binding } = input;
      const reply = (await run('rotate', [sessionKey(ref), ...lockKeys(ref), indexKey(ref)], ref.tag, input.now, [
        ref.id,
        input.newId,
        input.idleMs,
        binding.ipMode,
        binding.ipHashes[0] ?? '',
        binding.fingerprintMode,
        binding.fingerprint,
        input.data ?? '',
        input.expectedVersion ?? '',
        input.absoluteMs ?? '',
        input.graceMs,
      ])) as Reply;
      const status = reply[0];
      if (status === 'ok') return { kind: 'ok', record: record(reply) };
      if (status === 'version_conflict' || status === 'locked') return { kind: status };
      return missing(status);
    },

    async revoke(ref) {
      const reply = await run('revoke', [sessionKey(ref), indexKey(ref)], ref.tag, 0, [ref.id]);
      return Number(reply) === 1;
    },

    async revokeAll(user, exceptId) {
      return Number(await run('revokeAll', [indexKey(user), ...lockKeys(user)], user.tag, 0, [exceptId ?? '', '0']));
    },

    async deleteUser(user) {
      return Number(await run('revokeAll', [indexKey(user), ...lockKeys(user)], user.tag, 0, ['', '1']));
    },

    async list(user, now) {
      const replies = (await run('list', [indexKey(user)], user.tag, now, [])) as readonly Reply[];
      return replies.map((reply) => record(reply));
    },

    async lockFail(user, now, policy: LockPolicy) {
      return lockOutcome((await run('lockFail', lockKeys(user), user.tag, now, [packedPolicy(policy)])) as Reply);
    },

    async lockStatus(user, now, policy: LockPolicy) {
      return lockOutcome((await run('lockStatus', lockKeys(user), user.tag, now, [policy.windowMs])) as Reply);
    },

    async lockReset(user, unlock) {
      await run('lockReset', lockKeys(user), user.tag, 0, [unlock ? '1' : '0']);
    },
  };
}

function bindingArgs(binding: Binding): string[] {
  return [binding.ipMode, binding.ipHashes[0] ?? '', binding.ipHashes[1] ?? '', binding.fingerprintMode, binding.fingerprint];
}

/** The lockout policy as one argument, parsed by the script only when it counts a failure. */
function packedPolicy(policy: LockPolicy): string {
  return `${policy.threshold}:${policy.windowMs}:${policy.lockMs}:${policy.backoffFactor}:${policy.maxLockMs}:${policy.memoryMs}`;
}

/** A session record from the validate script's compact reply: status, 'v:c:is:ie:ae:pu', t, u, d, pid, followed id. */
function compactRecord(reply: Reply, id: string): StoredSession {
  const [version = 0, createdAt = 0, issuedAt = 0, idleExpiresAt = 0, absoluteExpiresAt = 0, previousUntil = 0] = String(reply[1] ?? '').split(':').map(Number);
  return {
    id,
    version,
    tenant: String(reply[2] ?? ''),
    userId: String(reply[3] ?? ''),
    createdAt,
    issuedAt,
    idleExpiresAt,
    absoluteExpiresAt,
    data: String(reply[4] ?? ''),
    previousId: String(reply[5] ?? ''),
    previousUntil,
  };
}

/** A session record from a script's reply: status, id, v, t, u, c, is, ie, ae, d, pid, pu. */
function record(reply: Reply): StoredSession {
  const text = (index: number): string => String(reply[index] ?? '');
  const number = (index: number): number => Number(reply[index] ?? 0);
  return {
    id: text(1),
    version: number(2),
    tenant: text(3),
    userId: text(4),
    createdAt: number(5),
    issuedAt: number(6),
    idleExpiresAt: number(7),
    absoluteExpiresAt: number(8),
    data: text(9),
    previousId: text(10),
    previousUntil: number(11),
  };
}

function missing(status: unknown): { readonly kind: 'not_found' } | { readonly kind: 'expired' } {
  return status === 'expired' ? { kind: 'expired' } : { kind: 'not_found' };
}

function lockOutcome(reply: Reply): LockOutcome {
  return { locked: Number(reply[0]) === 1, lockedUntil: Number(reply[1] ?? 0), failures: Number(reply[2] ?? 0), lockStarted: Number(reply[3]) === 1 };
}
