/**
 * The session store over a backend: ids and their hashes, bindings, data, lockout policy, metrics —
 * everything that does not depend on where the records live, written once for Redis and memory.
 */
import { createHash } from 'node:crypto';
import type { Binding, LockOutcome, LockPolicy, SessionBackend, SessionRef, StoredSession, UserRef } from './backend.js';
import { fingerprintInput, hashFingerprintInput } from './fingerprint.js';
import { memoize } from './memo.js';
import { sessionMetrics } from './metrics.js';
import type { ResolvedSessionOptions } from './options.js';
import { createSessionDataCodec } from './session-data.js';
import { checkSubject, deriveSessionKeys, isSessionId, newToken, parseToken, sessionIdOf } from './session-token.js';
import type { ParsedToken } from './session-token.js';
import type {
  LockoutStatus,
  RegenerateOptions,
  SecureSessionStore,
  Session,
  SessionInvalidReason,
  SessionRequestContext,
  SessionRotateResult,
  SessionSubject,
  SessionUpdateResult,
  SessionValidation,
} from './types.js';

const DEFAULT_MODIFY_ATTEMPTS = 5;
const EMPTY_DATA = '{}';

export function createSessionStore(options: ResolvedSessionOptions, backend: SessionBackend): SecureSessionStore {
  const keys = deriveSessionKeys(options.keyring);
  const codec = createSessionDataCodec(options.maxDataBytes);
  const metrics = sessionMetrics(options.registry);
  const { logger, lockout } = options;
  const fingerprintHeaders = options.fingerprintHeaders;
  const fingerprintMode = fingerprintHeaders === undefined ? 'off' : createHash('sha256').update(fingerprintHeaders.join('\n')).digest('base64url').slice(0, 8);
  const policy: LockPolicy = {
    threshold: lockout.threshold,
    windowMs: lockout.windowMs,
    lockMs: lockout.lockMs,
    backoffFactor: lockout.backoffFactor,
    maxLockMs: lockout.maxLockMs,
    memoryMs: lockout.memoryMs,
  };

  // Both derivations are pure and their inputs repeat from request to request: cached, bounded.
  const ipHashesOf = memoize((ip: string): readonly string[] => {
    const ipKey = options.ipBinding.key(ip === '' ? undefined : ip);
    return ipKey === undefined ? [''] : keys.bindingHashes(ipKey);
  });
  const fingerprintOf = memoize(hashFingerprintInput);

  function bindingOf(method: string, context: SessionRequestContext): Binding {
    if (typeof context !== 'object' || context === null || typeof context.headers !== 'object' || context.headers === null) {
      throw new TypeError(`${method}: context must be { ip, headers } of the request`);
    }
    return {
      ipMode: options.ipBinding.mode,
      ipHashes: ipHashesOf(typeof context.ip === 'string' ? context.ip : ''),
      fingerprintMode,
      fingerprint: fingerprintHeaders === undefined ? '' : fingerprintOf(fingerprintInput(context.headers, fingerprintHeaders)),
    };
  }

  const refOf = (parsed: ParsedToken): SessionRef => ({ tag: parsed.tag, id: parsed.id, ...keys.lockIds(parsed.tag) });
  const usersOf = (subject: SessionSubject): UserRef[] => keys.userTags(subject).map((tag) => ({ tag, ...keys.lockIds(tag) }));

  /** The application's view of a stored record; `undefined` (logged) when its data is corrupt. */
  function sessionOf(record: StoredSession): Session | undefined {
    const data = codec.decode(record.data);
    if (data === undefined) {
      logger.error({ sessionId: record.id }, 'session: stored data is not a safe JSON object; the session is treated as not found');
      return undefined;
    }
    const session: Session = {
      id: record.id,
      tenant: record.tenant,
      userId: record.userId,
      data,
      version: record.version,
      createdAt: record.createdAt,
      issuedAt: record.issuedAt,
      idleExpiresAt: record.idleExpiresAt,
      absoluteExpiresAt: record.absoluteExpiresAt,
    };
    return record.previousId === '' ? session : { ...session, previousId: record.previousId };
  }

  function invalid(reason: SessionInvalidReason): SessionValidation {
    metrics.validation(reason).inc();
    return { valid: false, reason };
  }

  function lockStarted(where: string): void {
    metrics.lockouts.inc();
    logger.warn({ where }, 'session: account locked after repeated failed attempts');
  }

  function lockoutStatusOf(outcomes: readonly LockOutcome[]): LockoutStatus {
    const locked = outcomes.filter((outcome) => outcome.locked);
    const failures = Math.max(0, ...outcomes.map((outcome) => outcome.failures));
    if (locked.length === 0) return { locked: false, lockedUntil: undefined, failures };
    return { locked: true, lockedUntil: Math.max(...locked.map((outcome) => outcome.lockedUntil)), failures: 0 };
  }

  function rotateResult(outcome: Awaited<ReturnType<SessionBackend['rotate']>>, token: string): SessionRotateResult {
    if (outcome.kind !== 'ok') return { ok: false, reason: outcome.kind };
    const session = sessionOf(outcome.record);
    return session === undefined ? { ok: false, reason: 'not_found' } : { ok: true, token, session };
  }

  function updateResult(outcome: Awaited<ReturnType<SessionBackend['update']>>): SessionUpdateResult {
    if (outcome.kind !== 'ok') return { ok: false, reason: outcome.kind };
    const session = sessionOf(outcome.record);
    return session === undefined ? { ok: false, reason: 'not_found' } : { ok: true, session };
  }

  const store: SecureSessionStore = {
    timeouts: Object.freeze({ idleTimeoutMs: options.idleTimeoutMs, absoluteTimeoutMs: options.absoluteTimeoutMs, renewalIntervalMs: options.renewalIntervalMs }),

    async create(input) {
      const subject = checkSubject('create', input);
      const binding = bindingOf('create', input.context);
      const data = input.data === undefined ? EMPTY_DATA : codec.encode('create', input.data);
      const [user, ...previous] = usersOf(subject);
      if (user === undefined) throw new Error('unreachable: no user tag');
      const now = options.now();
      // During a key rotation the user may also have a lock under the previous tag.
      for (const old of previous) {
        if ((await backend.lockStatus(old, now, policy)).locked) return { ok: false, reason: 'locked' };
      }
      const token = newToken(user.tag);
      const id = sessionIdOf(token);
      const absoluteExpiresAt = now + options.absoluteTimeoutMs;
      const idleExpiresAt = Math.min(now + options.idleTimeoutMs, absoluteExpiresAt);
      const outcome = await backend.create(
        { ...user, id },
        { now, idleExpiresAt, absoluteExpiresAt, tenant: subject.tenant, userId: subject.userId, data, binding, maxPerUser: options.maxSessionsPerUser },
      );
      if (outcome === 'locked') return { ok: false, reason: 'locked' };
      const session: Session = {
        id,
        tenant: subject.tenant,
        userId: subject.userId,
        data: codec.decode(data) ?? {},
        version: 1,
        createdAt: now,
        issuedAt: now,
        idleExpiresAt,
        absoluteExpiresAt,
      };
      return { ok: true, token, session };
    },

    async validate(token, context) {
      const binding = bindingOf('validate', context);
      const parsed = parseToken(token);
      if (parsed === undefined) return invalid('not_found');
      const now = options.now();
      const outcome = await backend.validate(refOf(parsed), { now, idleMs: options.idleTimeoutMs, touchMs: options.touchIntervalMs, binding, countMismatch: lockout.countMismatches, policy });
      if (outcome.kind !== 'valid') {
        if ((outcome.kind === 'ip_mismatch' || outcome.kind === 'fingerprint_mismatch') && outcome.lockStarted) lockStarted(outcome.kind);
        return invalid(outcome.kind);
      }
      const session = sessionOf(outcome.record);
      if (session === undefined) return invalid('not_found');
      metrics.validation('valid').inc();
      const interval = options.renewalIntervalMs;
      const renewalDue = interval !== undefined && !outcome.viaPointer && now - session.issuedAt >= interval;
      return { valid: true, session, renewalDue };
    },

    async update(token, input) {
      if (typeof input !== 'object' || input === null || !Number.isSafeInteger(input.expectedVersion)) {
        throw new TypeError('update: expected { data, expectedVersion } with an integer version (Session.version)');
      }
      const data = codec.encode('update', input.data);
      const parsed = parseToken(token);
      if (parsed === undefined) return { ok: false, reason: 'not_found' };
      const outcome = await backend.update(refOf(parsed), { now: options.now(), idleMs: options.idleTimeoutMs, expectedVersion: input.expectedVersion, data });
      return updateResult(outcome);
    },

    async modify(token, change, attempts = DEFAULT_MODIFY_ATTEMPTS) {
      if (typeof change !== 'function') throw new TypeError('modify: change must be a function (data) => data');
      if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) throw new TypeError(`modify: attempts must be an integer between 1 and 100, got ${String(attempts)}`);
      const parsed = parseToken(token);
      if (parsed === undefined) return { ok: false, reason: 'not_found' };
      const ref = refOf(parsed);
      for (let attempt = 0; attempt < attempts; attempt += 1) {
        const now = options.now();
        const read = await backend.read(ref, now);
        if (read.kind !== 'found') return { ok: false, reason: read.kind };
        const current = codec.decode(read.record.data);
        if (current === undefined) return { ok: false, reason: 'not_found' };
        const data = codec.encode('modify', change(current));
        const outcome = await backend.update(ref, { now, idleMs: options.idleTimeoutMs, expectedVersion: read.record.version, data });
        if (outcome.kind !== 'version_conflict') return updateResult(outcome);
      }
      return { ok: false, reason: 'version_conflict' };
    },

    async regenerate(token, regenerateOptions: RegenerateOptions) {
      if (typeof regenerateOptions !== 'object' || regenerateOptions === null) throw new TypeError('regenerate: options { context } are required');
      const binding = bindingOf('regenerate', regenerateOptions.context);
      const data = regenerateOptions.data === undefined ? undefined : codec.encode('regenerate', regenerateOptions.data);
      const expectedVersion = regenerateOptions.expectedVersion;
      if (expectedVersion !== undefined && !Number.isSafeInteger(expectedVersion)) throw new TypeError('regenerate: expectedVersion must be an integer');
      const parsed = parseToken(token);
      if (parsed === undefined) return { ok: false, reason: 'not_found' };
      const fresh = newToken(parsed.tag);
      const outcome = await backend.rotate(refOf(parsed), {
        now: options.now(),
        newId: sessionIdOf(fresh),
        idleMs: options.idleTimeoutMs,
        binding,
        data,
        expectedVersion,
        absoluteMs: regenerateOptions.renewAbsoluteTimeout === true ? options.absoluteTimeoutMs : undefined,
        graceMs: 0,
      });
      return rotateResult(outcome, fresh);
    },

    async renew(token, context) {
      const binding = bindingOf('renew', context);
      const parsed = parseToken(token);
      if (parsed === undefined) return { ok: false, reason: 'not_found' };
      const fresh = newToken(parsed.tag);
      const outcome = await backend.rotate(refOf(parsed), {
        now: options.now(),
        newId: sessionIdOf(fresh),
        idleMs: options.idleTimeoutMs,
        binding,
        data: undefined,
        expectedVersion: undefined,
        absoluteMs: undefined,
        // A grace of 0 would make renewal a regeneration: at least one millisecond of pointer.
        graceMs: Math.max(1, options.renewalGraceMs),
      });
      return rotateResult(outcome, fresh);
    },

    async revoke(token) {
      const parsed = parseToken(token);
      return parsed === undefined ? false : backend.revoke(refOf(parsed));
    },

    async revokeById(subject, sessionId) {
      const checked = checkSubject('revokeById', subject);
      if (!isSessionId(sessionId)) return false;
      let revoked = false;
      for (const user of usersOf(checked)) revoked = (await backend.revoke({ ...user, id: sessionId })) || revoked;
      return revoked;
    },

    async revokeAll(subject, revokeOptions) {
      const checked = checkSubject('revokeAll', subject);
      const except = revokeOptions?.exceptToken === undefined ? undefined : parseToken(revokeOptions.exceptToken)?.id;
      let count = 0;
      for (const user of usersOf(checked)) count += await backend.revokeAll(user, except);
      return count;
    },

    async list(subject) {
      const checked = checkSubject('list', subject);
      const now = options.now();
      const sessions: Session[] = [];
      for (const user of usersOf(checked)) {
        for (const record of await backend.list(user, now)) {
          const session = sessionOf(record);
          if (session !== undefined) sessions.push(session);
        }
      }
      return sessions.sort((a, b) => a.createdAt - b.createdAt);
    },

    async deleteUser(subject) {
      const checked = checkSubject('deleteUser', subject);
      let count = 0;
      for (const user of usersOf(checked)) count += await backend.deleteUser(user);
      return count;
    },

    async recordFailure(subject) {
      const [user] = usersOf(checkSubject('recordFailure', subject));
      if (user === undefined) throw new Error('unreachable: no user tag');
      const outcome = await backend.lockFail(user, options.now(), policy);
      if (outcome.lockStarted) lockStarted('recordFailure');
      return lockoutStatusOf([outcome]);
    },

    async lockoutStatus(subject) {
      const now = options.now();
      const outcomes: LockOutcome[] = [];
      for (const user of usersOf(checkSubject('lockoutStatus', subject))) outcomes.push(await backend.lockStatus(user, now, policy));
      return lockoutStatusOf(outcomes);
    },

    async resetFailures(subject) {
      for (const user of usersOf(checkSubject('resetFailures', subject))) await backend.lockReset(user, false);
    },

    async unlock(subject) {
      for (const user of usersOf(checkSubject('unlock', subject))) await backend.lockReset(user, true);
    },
  };
  return Object.freeze(store);
}

