/**
 * The lockout records of the memory backend: the same rules as the Redis scripts (lua.ts `fail`),
 * bounded to `maxEntries` records (the oldest goes first), each forgotten once nothing in it
 * matters any more (window, lock and back-off memory all over).
 */
import { lockDurationMs } from './backend.js';
import type { LockOutcome, LockPolicy, UserRef } from './backend.js';

interface LockRecord {
  failures: number;
  windowStart: number;
  lockedUntil: number;
  strikes: number;
  lastStrike: number;
  keepUntil: number;
}

const keyOf = (user: UserRef): string => `${user.tag}:${user.lockId}`;
const previousKeyOf = (user: UserRef): string => `${user.tag}:${user.previousLockId}`;

export class MemoryLockouts {
  private readonly records = new Map<string, LockRecord>();

  constructor(private readonly maxEntries: number) {}

  /** The later end of the current and the previous key's lock (0 when none). */
  lockedUntil(user: UserRef, now: number): number {
    return Math.max(this.record(keyOf(user), now)?.lockedUntil ?? 0, this.record(previousKeyOf(user), now)?.lockedUntil ?? 0);
  }

  /** One failure: counted, and at the threshold the account locks. Failures during a lock are not counted. */
  fail(user: UserRef, now: number, policy: LockPolicy): LockOutcome {
    const until = this.lockedUntil(user, now);
    if (until > now) return { locked: true, lockedUntil: until, failures: 0, lockStarted: false };
    const key = keyOf(user);
    const record = this.record(key, now) ?? { failures: 0, windowStart: now, lockedUntil: 0, strikes: 0, lastStrike: 0, keepUntil: 0 };
    if (record.failures === 0 || now - record.windowStart >= policy.windowMs) {
      record.failures = 0;
      record.windowStart = now;
    }
    record.failures += 1;
    let lockStarted = false;
    if (record.failures >= policy.threshold) {
      if (record.strikes > 0 && now - record.lastStrike >= policy.memoryMs) record.strikes = 0;
      record.lockedUntil = now + lockDurationMs(policy, record.strikes);
      record.strikes += 1;
      record.lastStrike = now;
      record.failures = 0;
      record.windowStart = now;
      lockStarted = true;
    }
    record.keepUntil = Math.max(record.windowStart + policy.windowMs, record.lockedUntil, record.strikes > 0 ? record.lastStrike + policy.memoryMs : 0);
    this.records.delete(key);
    this.records.set(key, record);
    while (this.records.size > this.maxEntries) this.records.delete(this.records.keys().next().value as string);
    return { locked: record.lockedUntil > now, lockedUntil: record.lockedUntil, failures: record.failures, lockStarted };
  }

  status(user: UserRef, now: number, policy: LockPolicy): LockOutcome {
    const record = this.record(keyOf(user), now);
    const until = this.lockedUntil(user, now);
    const failures = record === undefined || until > now || now - record.windowStart >= policy.windowMs ? 0 : record.failures;
    return { locked: until > now, lockedUntil: until, failures, lockStarted: false };
  }

  /** Forgets the counted failures; with `unlock`, everything (an active lock and the back-off too). */
  reset(user: UserRef, unlock: boolean): void {
    for (const key of [keyOf(user), previousKeyOf(user)]) {
      if (unlock) this.records.delete(key);
      else {
        const record = this.records.get(key);
        if (record !== undefined) record.failures = 0;
      }
    }
  }

  private record(key: string, now: number): LockRecord | undefined {
    const record = this.records.get(key);
    if (record !== undefined && now >= record.keepUntil) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }
}
