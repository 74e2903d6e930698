/**
 * The in-memory twin of the Redis backend, for one process (development, tests, single-instance
 * deployments). The same operations with the same outcomes — the contract tests run against both —
 * each done synchronously, which is what makes them atomic here.
 *
 * Bounded: at most `maxSessions` records (the least recently used goes first) and `maxLockouts`
 * lockout records (the oldest goes first); expired entries are removed when next touched. No timers.
 */
import { MAX_POINTER_HOPS } from './backend.js';
import type {
  Binding,
  Missing,
  SessionBackend,
  SessionRef,
  StoredSession,
  UserRef,
} from './backend.js';
import { MemoryLockouts } from './memory-lockouts.js';

interface LiveRecord {
  readonly kind: 'session';
  readonly tag: string;
  version: number;
  readonly tenant: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly issuedAt: number;
  idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
  ipMode: string;
  ipHash: string;
  fingerprintMode: string;
  fingerprint: string;
  data: string;
  previousId: string;
  previousUntil: number;
}

interface PointerRecord {
  readonly kind: 'pointer';
  readonly tag: string;
  readonly next: string;
  readonly until: number;
}

type Resolved = { readonly record: LiveRecord; readonly id: string; readonly viaPointer: boolean } | Missing;

export interface MemoryBackendOptions {
  readonly maxSessions: number;
  readonly maxLockouts: number;
}

export function createMemoryBackend(options: MemoryBackendOptions): SessionBackend {
  const records = new Map<string, LiveRecord | PointerRecord>();
  /** Per user tag: session id → absolute expiry. */
  const indexes = new Map<string, Map<string, number>>();
  const lockouts = new MemoryLockouts(options.maxLockouts);
  const isLocked = (user: UserRef, now: number): boolean => lockouts.lockedUntil(user, now) > now;

  const keyOf = (tag: string, id: string): string => `${tag}:${id}`;

  function put(tag: string, id: string, record: LiveRecord | PointerRecord): void {
    const key = keyOf(tag, id);
    // Re-inserting moves the entry to the end: the Map's order is least recently used first.
    records.delete(key);
    records.set(key, record);
    while (records.size > options.maxSessions) {
      const oldest = records.keys().next().value as string;
      const evicted = records.get(oldest);
      records.delete(oldest);
      if (evicted !== undefined) indexes.get(evicted.tag)?.delete(oldest.slice(evicted.tag.length + 1));
    }
  }

  function remove(tag: string, id: string): boolean {
    const existed = records.delete(keyOf(tag, id));
    const index = indexes.get(tag);
    index?.delete(id);
    if (index?.size === 0) indexes.delete(tag);
    return existed;
  }

  function drop(tag: string, id: string, record: LiveRecord): void {
    remove(tag, id);
    if (record.previousId !== '') records.delete(keyOf(tag, record.previousId));
  }

  function resolve(tag: string, start: string, now: number): Resolved {
    let id = start;
    for (let hop = 0; hop < MAX_POINTER_HOPS; hop += 1) {
      const record = records.get(keyOf(tag, id));
      if (record === undefined) return { kind: 'not_found' };
      if (record.kind === 'session') return { record, id, viaPointer: hop > 0 };
      if (now >= record.until) {
        records.delete(keyOf(tag, id));
        return { kind: 'expired' };
      }
      id = record.next;
    }
    return { kind: 'not_found' };
  }

  /** The live record behind `ref`, or why there is none; drops it when it has expired. */
  function live(ref: SessionRef, now: number): { readonly record: LiveRecord; readonly id: string; readonly viaPointer: boolean } | Missing {
    const found = resolve(ref.tag, ref.id, now);
    if (!('record' in found)) return found.kind === 'not_found' ? { kind: 'not_found' } : { kind: 'expired' };
    if (now >= found.record.idleExpiresAt || now >= found.record.absoluteExpiresAt) {
      drop(ref.tag, found.id, found.record);
      return { kind: 'expired' };
    }
    return found;
  }

  function stored(id: string, record: LiveRecord, now: number): StoredSession {
    const honoursPrevious = record.previousId !== '' && now < record.previousUntil;
    return {
      id,
      version: record.version,
      tenant: record.tenant,
      userId: record.userId,
      createdAt: record.createdAt,
      issuedAt: record.issuedAt,
      idleExpiresAt: record.idleExpiresAt,
      absoluteExpiresAt: record.absoluteExpiresAt,
      data: record.data,
      previousId: honoursPrevious ? record.previousId : '',
      previousUntil: honoursPrevious ? record.previousUntil : 0,
    };
  }

  function rebind(record: LiveRecord, binding: Binding): void {
    record.ipMode = binding.ipMode;
    record.ipHash = binding.ipHashes[0] ?? '';
    record.fingerprintMode = binding.fingerprintMode;
    record.fingerprint = binding.fingerprint;
  }

  return {
    async create(ref, input) {
      if (isLocked(ref, input.now)) return 'locked';
      const record: LiveRecord = {
        kind: 'session',
        tag: ref.tag,
        version: 1,
        tenant: input.tenant,
        userId: input.userId,
        createdAt: input.now,
        issuedAt: input.now,
        idleExpiresAt: input.idleExpiresAt,
        absoluteExpiresAt: input.absoluteExpiresAt,
        ipMode: '',
        ipHash: '',
        fingerprintMode: '',
        fingerprint: '',
        data: input.data,
        previousId: '',
        previousUntil: 0,
      };
      rebind(record, input.binding);
      put(ref.tag, ref.id, record);
      let index = indexes.get(ref.tag);
      if (index === undefined) {
        index = new Map();
        indexes.set(ref.tag, index);
      }
      for (const [id, absoluteExpiresAt] of index) if (absoluteExpiresAt <= input.now) index.delete(id);
      index.set(ref.id, input.absoluteExpiresAt);
      if (index.size > input.maxPerUser) {
        for (const id of index.keys()) if (!records.has(keyOf(ref.tag, id))) index.delete(id);
        // Oldest login first: the lowest absolute expiry.
        const byAge = [...index].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
        for (const [id] of byAge.slice(0, Math.max(0, index.size - input.maxPerUser))) {
          const evicted = records.get(keyOf(ref.tag, id));
          if (evicted?.kind === 'session') drop(ref.tag, id, evicted);
          else remove(ref.tag, id);
        }
      }
      return 'ok';
    },

    async validate(ref, input) {
      const { now, binding } = input;
      const found = resolve(ref.tag, ref.id, now);
      if (!('record' in found)) return found.kind === 'not_found' ? { kind: 'not_found' } : { kind: 'expired' };
      if (isLocked(ref, now)) return { kind: 'locked' };
      const { record, id } = found;
      if (now >= record.idleExpiresAt || now >= record.absoluteExpiresAt) {
        drop(ref.tag, id, record);
        return { kind: 'expired' };
      }
      let mismatch: 'ip_mismatch' | 'fingerprint_mismatch' | undefined;
      let ipUpdate: (() => void) | undefined;
      if (binding.ipMode !== 'off') {
        const [current = '', previous = ''] = binding.ipHashes;
        if (record.ipMode !== binding.ipMode) {
          ipUpdate = () => {
            record.ipMode = binding.ipMode;
            record.ipHash = current;
          };
        } else if (record.ipHash !== current) {
          if (previous !== '' && record.ipHash === previous) ipUpdate = () => (record.ipHash = current);
          else mismatch = 'ip_mismatch';
        }
      }
      let fingerprintUpdate: (() => void) | undefined;
      if (mismatch === undefined && binding.fingerprintMode !== 'off') {
        if (record.fingerprintMode !== binding.fingerprintMode) {
          fingerprintUpdate = () => {
            record.fingerprintMode = binding.fingerprintMode;
            record.fingerprint = binding.fingerprint;
          };
        } else if (record.fingerprint !== binding.fingerprint) {
          mismatch = 'fingerprint_mismatch';
        }
      }
      if (mismatch !== undefined) {
        const lockStarted = input.countMismatch ? lockouts.fail(ref, now, input.policy).lockStarted : false;
        return { kind: mismatch, lockStarted };
      }
      ipUpdate?.();
      fingerprintUpdate?.();
      const idleExpiresAt = Math.min(now + input.idleMs, record.absoluteExpiresAt);
      if (idleExpiresAt - record.idleExpiresAt >= input.touchMs) record.idleExpiresAt = idleExpiresAt;
      put(ref.tag, id, record);
      return { kind: 'valid', record: stored(id, record, now), viaPointer: found.viaPointer };
    },

    async read(ref, now) {
      const found = live(ref, now);
      return 'record' in found ? { kind: 'found', record: stored(found.id, found.record, now) } : found;
    },

    async update(ref, input) {
      const found = live(ref, input.now);
      if (!('record' in found)) return found;
      const { record } = found;
      if (record.version !== input.expectedVersion) return { kind: 'version_conflict' };
      record.version += 1;
      record.data = input.data;
      record.idleExpiresAt = Math.min(input.now + input.idleMs, record.absoluteExpiresAt);
      put(ref.tag, found.id, record);
      return { kind: 'ok', record: stored(found.id, record, input.now) };
    },

    async rotate(ref, input) {
      const { now } = input;
      const resolved = resolve(ref.tag, ref.id, now);
      if (!('record' in resolved)) return resolved.kind === 'not_found' ? { kind: 'not_found' } : { kind: 'expired' };
      if (resolved.viaPointer && input.graceMs > 0) return { kind: 'version_conflict' };
      if (isLocked(ref, now)) return { kind: 'locked' };
      const { record, id } = resolved;
      if (now >= record.idleExpiresAt || now >= record.absoluteExpiresAt) {
        drop(ref.tag, id, record);
        return { kind: 'expired' };
      }
      if (input.expectedVersion !== undefined && record.version !== input.expectedVersion) return { kind: 'version_conflict' };
      const absoluteExpiresAt = input.absoluteMs === undefined ? record.absoluteExpiresAt : now + input.absoluteMs;
      const fresh: LiveRecord = {
        ...record,
        version: record.version + 1,
        issuedAt: now,
        idleExpiresAt: Math.min(now + input.idleMs, absoluteExpiresAt),
        absoluteExpiresAt,
        data: input.data ?? record.data,
        previousId: input.graceMs > 0 ? id : '',
        previousUntil: input.graceMs > 0 ? now + input.graceMs : 0,
      };
      rebind(fresh, input.binding);
      if (input.graceMs > 0) {
        remove(ref.tag, id);
        put(ref.tag, id, { kind: 'pointer', tag: ref.tag, next: input.newId, until: now + input.graceMs });
      } else {
        drop(ref.tag, id, record);
      }
      put(ref.tag, input.newId, fresh);
      let index = indexes.get(ref.tag);
      if (index === undefined) {
        index = new Map();
        indexes.set(ref.tag, index);
      }
      index.set(input.newId, absoluteExpiresAt);
      return { kind: 'ok', record: stored(input.newId, fresh, now) };
    },

    async revoke(ref) {
      let id = ref.id;
      let deleted = false;
      for (let hop = 0; hop < MAX_POINTER_HOPS; hop += 1) {
        const record = records.get(keyOf(ref.tag, id));
        if (record === undefined) break;
        remove(ref.tag, id);
        deleted = true;
        if (record.kind === 'session') {
          if (record.previousId !== '') records.delete(keyOf(ref.tag, record.previousId));
          break;
        }
        id = record.next;
      }
      return deleted;
    },

    async revokeAll(user, exceptId) {
      return revokeAll(user, exceptId);
    },

    async deleteUser(user) {
      const count = revokeAll(user, undefined);
      indexes.delete(user.tag);
      lockouts.reset(user, true);
      return count;
    },

    async list(user, now) {
      const index = indexes.get(user.tag);
      if (index === undefined) return [];
      const sessions: StoredSession[] = [];
      for (const [id] of [...index].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))) {
        const found = live({ ...user, id }, now);
        if ('record' in found && !found.viaPointer) sessions.push(stored(id, found.record, now));
        else index.delete(id);
      }
      return sessions;
    },

    async lockFail(user, now, policy) {
      return lockouts.fail(user, now, policy);
    },

    async lockStatus(user, now, policy) {
      return lockouts.status(user, now, policy);
    },

    async lockReset(user, unlock) {
      lockouts.reset(user, unlock);
    },
  };

  function revokeAll(user: UserRef, exceptId: string | undefined): number {
    const index = indexes.get(user.tag);
    if (index === undefined) return 0;
    let count = 0;
    for (const id of [...index.keys()]) {
      if (id === exceptId) continue;
      const record = records.get(keyOf(user.tag, id));
      if (record?.kind === 'session') {
        drop(user.tag, id, record);
        count += 1;
      } else {
        remove(user.tag, id);
      }
    }
    return count;
  }
}
