/**
 * The bookkeeping behind the bounded memory store: every entry sits in two intrusive doubly linked
 * lists, so that each operation below is O(1) and allocates nothing.
 *
 * - The recency list (most recent first) orders entries for least-recently-used eviction.
 * - The expiry index groups entries by the second in which they expire. A cursor walks the seconds
 *   that have passed, so finding an expired entry costs amortised O(1) however many live entries
 *   were used more recently — expired entries are evicted before any live one.
 *
 * Hand-written rather than taken from an LRU package because the eviction rule is not plain LRU:
 * expired entries go first, and a key that is currently limited is never evicted to make room (an
 * attacker must not be able to reset a blocked key by flooding new ones). No maintained LRU library
 * offers both without an O(n) scan.
 */
import type { CounterState } from './algorithm.js';
import type { LeaseTable } from './concurrency.js';

/** The resolution of the expiry index. */
export const EXPIRY_SLOT_MS = 1000;

/** One key of one limit. Reused when evicted, so a flood of new keys allocates no new entries. */
export class Entry implements CounterState {
  key = '';
  table: Map<string, Entry> | undefined = undefined;
  a = 0;
  b = 0;
  c = 0;
  expiresAt = 0;
  /** Epoch ms until which the key is limited (or holds leases) and so must not be evicted. */
  protectedUntil = 0;
  leases: LeaseTable | undefined = undefined;
  newer: Entry | undefined = undefined;
  older: Entry | undefined = undefined;
  slot = -1;
  slotPrev: Entry | undefined = undefined;
  slotNext: Entry | undefined = undefined;

  reset(): void {
    this.a = 0;
    this.b = 0;
    this.c = 0;
    this.expiresAt = 0;
    this.protectedUntil = 0;
    this.leases = undefined;
  }
}

/** The recency list: `touch` moves an entry to the front, eviction takes from the back. */
export class RecencyList {
  private newest: Entry | undefined;
  private oldest: Entry | undefined;

  get last(): Entry | undefined {
    return this.oldest;
  }

  touch(entry: Entry): void {
    if (this.newest === entry) return;
    this.unlink(entry);
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = entry;
    this.newest = entry;
    this.oldest ??= entry;
  }

  unlink(entry: Entry): void {
    const { newer, older } = entry;
    if (newer !== undefined) newer.older = older;
    else if (this.newest === entry) this.newest = older;
    if (older !== undefined) older.newer = newer;
    else if (this.oldest === entry) this.oldest = newer;
    entry.newer = undefined;
    entry.older = undefined;
  }

  clear(): void {
    this.newest = undefined;
    this.oldest = undefined;
  }
}

/** Entries grouped by the second of their expiry, with a cursor over the seconds already past. */
export class ExpiryIndex {
  private readonly slots = new Map<number, Entry>();
  private cursor = Number.POSITIVE_INFINITY;

  /** Files `entry` under its current `expiresAt` (moving it if it changed second). */
  update(entry: Entry): void {
    const slot = Math.floor(entry.expiresAt / EXPIRY_SLOT_MS);
    if (slot === entry.slot) return;
    this.remove(entry);
    const head = this.slots.get(slot);
    entry.slot = slot;
    entry.slotNext = head;
    entry.slotPrev = undefined;
    if (head !== undefined) head.slotPrev = entry;
    this.slots.set(slot, entry);
    if (slot < this.cursor) this.cursor = slot;
  }

  remove(entry: Entry): void {
    if (entry.slot === -1) return;
    const { slotPrev, slotNext } = entry;
    if (slotNext !== undefined) slotNext.slotPrev = slotPrev;
    if (slotPrev !== undefined) slotPrev.slotNext = slotNext;
    else if (slotNext === undefined) this.slots.delete(entry.slot);
    else this.slots.set(entry.slot, slotNext);
    entry.slot = -1;
    entry.slotPrev = undefined;
    entry.slotNext = undefined;
  }

  /**
   * An entry whose whole expiry second lies before `nowMs`, or `undefined`. Walks at most `budget`
   * empty seconds per call, so one call after a long idle stretch stays cheap; when the index has
   * fewer seconds than the gap, it jumps to the earliest one instead of walking.
   */
  expired(nowMs: number, budget: number): Entry | undefined {
    const nowSlot = Math.floor(nowMs / EXPIRY_SLOT_MS);
    if (this.slots.size === 0) {
      this.cursor = nowSlot;
      return undefined;
    }
    if (nowSlot - this.cursor > this.slots.size) this.cursor = this.earliestSlot();
    for (let steps = 0; this.cursor < nowSlot && steps < budget; steps += 1) {
      const head = this.slots.get(this.cursor);
      if (head !== undefined) return head;
      this.cursor += 1;
    }
    return undefined;
  }

  clear(): void {
    this.slots.clear();
    this.cursor = Number.POSITIVE_INFINITY;
  }

  private earliestSlot(): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const slot of this.slots.keys()) if (slot < earliest) earliest = slot;
    return earliest;
  }
}
