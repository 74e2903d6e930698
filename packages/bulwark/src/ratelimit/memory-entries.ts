/**
 * The bookkeeping behind the bounded memory store. An entry is a 64-byte record in one growable
 * `ArrayBuffer` (viewed as `Float64Array` and `Int32Array`): its algorithm state, expiry and
 * protection time as doubles, then the links of the two lists it belongs to as 32-bit integers. A
 * decision therefore costs one hash lookup (`Map<string, entry index>`) and reads within one cache
 * line; nothing is allocated per key and no number is boxed. (An object per key costs several
 * times the memory, every timestamp field becomes a separate heap number, and a column per field
 * would touch a cache line per field.)
 *
 * The two intrusive doubly linked lists make every operation below O(1):
 * - the recency list (most recent first) orders entries for least-recently-used eviction;
 * - the expiry index groups entries by the second in which they expire; a cursor walks the seconds
 *   that have passed, so finding an expired entry costs amortised O(1) however many live entries
 *   were used more recently — expired entries are evicted before any live one.
 *
 * Hand-written rather than taken from an LRU package because the eviction rule is not plain LRU:
 * expired entries go first, and a key that is currently limited is never evicted to make room (an
 * attacker must not be able to reset a blocked key by flooding new ones). No maintained LRU library
 * offers both without an O(n) scan.
 */
import { STATE_EXPIRES_AT, STATE_FIELDS } from './algorithm.js';
import type { LeaseTable } from './concurrency.js';

/** The resolution of the expiry index. */
export const EXPIRY_SLOT_MS = 1000;
/** "No entry" in the links. */
export const NONE = -1;
/** Marks an entry that is in no expiry second (stored in its `slotPrevious` link). */
const UNINDEXED = -2;
/** Marks an entry that is not in the recency list (stored in its `movedAt`). */
const UNLINKED = -1;

/** Doubles per record: the algorithm state, then `protectedUntil`, then room for 6 int32 links. */
export const RECORD_DOUBLES = 8;
const RECORD_INTS = RECORD_DOUBLES * 2;
/** Epoch ms until which the key is limited (or holds leases) and must not be evicted. */
export const PROTECTED_UNTIL = STATE_FIELDS;
// Int32 offsets within a record (after the five doubles, which take ints 0…9).
const NEWER = 10;
const OLDER = 11;
const MOVED_AT = 12;
const SLOT = 13;
const SLOT_PREVIOUS = 14;
const SLOT_NEXT = 15;
type LinkField = typeof NEWER | typeof OLDER | typeof MOVED_AT | typeof SLOT | typeof SLOT_PREVIOUS | typeof SLOT_NEXT;
const INITIAL_CAPACITY = 1024;

export class EntryArena {
  capacity: number;
  /** Every entry's record; the algorithms read and write theirs at `index * RECORD_DOUBLES`. */
  doubles: Float64Array;
  private ints: Int32Array;
  /** Entries ever handed out (indices below this are in use or on the free stack). */
  private used = 0;
  private freeStack: number[] = [];
  keys: string[] = [];
  tables: (Map<string, number> | undefined)[] = [];
  leases: (LeaseTable | undefined)[] = [];

  constructor(private readonly maxSize: number) {
    this.capacity = Math.min(maxSize, INITIAL_CAPACITY);
    this.doubles = new Float64Array(this.capacity * RECORD_DOUBLES);
    this.ints = new Int32Array(this.doubles.buffer);
  }

  /** The record offset of an entry in {@link doubles}. */
  static offset(index: number): number {
    return index * RECORD_DOUBLES;
  }

  /** A fresh entry (state zero, in no list) for `key` of `table`; the caller checked there is room. */
  allocate(key: string, table: Map<string, number>): number {
    const reused = this.freeStack.pop();
    let index: number;
    if (reused !== undefined) {
      index = reused;
    } else {
      if (this.used === this.capacity) this.grow();
      index = this.used;
      this.used += 1;
    }
    this.reassign(index, key, table);
    return index;
  }

  /** Makes `index` a fresh entry for another key; it must be out of every list. */
  reassign(index: number, key: string, table: Map<string, number>): void {
    const at = index * RECORD_DOUBLES;
    const doubles = this.doubles;
    // Five stores are cheaper than a call to `fill` for five numbers.
    doubles[at] = 0;
    doubles[at + 1] = 0;
    doubles[at + 2] = 0;
    doubles[at + 3] = 0;
    doubles[at + PROTECTED_UNTIL] = 0;
    const ints = this.ints;
    const base = index * RECORD_INTS;
    ints[base + NEWER] = NONE;
    ints[base + OLDER] = NONE;
    ints[base + MOVED_AT] = UNLINKED;
    ints[base + SLOT] = 0;
    ints[base + SLOT_PREVIOUS] = UNINDEXED;
    ints[base + SLOT_NEXT] = NONE;
    this.keys[index] = key;
    this.tables[index] = table;
    this.leases[index] = undefined;
  }

  /** Returns `index` to the free stack; it must be out of every list. */
  release(index: number): void {
    this.keys[index] = '';
    this.tables[index] = undefined;
    this.leases[index] = undefined;
    this.freeStack.push(index);
  }

  clear(): void {
    this.used = 0;
    this.freeStack = [];
    this.keys = [];
    this.tables = [];
    this.leases = [];
  }

  expiresAt(index: number): number {
    return this.doubles[index * RECORD_DOUBLES + STATE_EXPIRES_AT] ?? 0;
  }

  setExpiresAt(index: number, value: number): void {
    this.doubles[index * RECORD_DOUBLES + STATE_EXPIRES_AT] = value;
  }

  protectedUntil(index: number): number {
    return this.doubles[index * RECORD_DOUBLES + PROTECTED_UNTIL] ?? 0;
  }

  setProtectedUntil(index: number, value: number): void {
    this.doubles[index * RECORD_DOUBLES + PROTECTED_UNTIL] = value;
  }

  link(index: number, field: LinkField): number {
    return this.ints[index * RECORD_INTS + field] ?? NONE;
  }

  setLink(index: number, field: LinkField, value: number): void {
    this.ints[index * RECORD_INTS + field] = value;
  }

  private grow(): void {
    const capacity = Math.min(this.maxSize, this.capacity * 2);
    const doubles = new Float64Array(capacity * RECORD_DOUBLES);
    doubles.set(this.doubles);
    this.doubles = doubles;
    this.ints = new Int32Array(doubles.buffer);
    this.capacity = capacity;
  }
}

/** Wraps the move counter so that it stays a small non-negative integer for ever. */
const MOVE_MASK = 0x3fffffff;

/**
 * The recency list: `touch` moves an entry to the front, eviction takes from the back.
 *
 * Moving an entry rewrites its two neighbours, which are random other entries: on a busy store
 * those are cache misses that cost as much as the rest of a decision. So an entry already among the
 * `promotionWindow` most recently moved ones is not moved again. Eviction order is then
 * least-recently-used up to that window: an entry is never evicted while it is among the newest
 * `promotionWindow` moves. With a window of 1 (small stores) it is exact LRU.
 */
export class RecencyList {
  private newest = NONE;
  private oldest = NONE;
  private moves = 0;

  constructor(
    private readonly arena: EntryArena,
    private readonly promotionWindow: number,
  ) {}

  get last(): number {
    return this.oldest;
  }

  touch(index: number): void {
    const arena = this.arena;
    const movedAt = arena.link(index, MOVED_AT);
    if (movedAt !== UNLINKED && ((this.moves - movedAt) & MOVE_MASK) < this.promotionWindow) return;
    this.moves = (this.moves + 1) & MOVE_MASK;
    if (this.newest !== index) {
      this.unlink(index);
      arena.setLink(index, OLDER, this.newest);
      if (this.newest !== NONE) arena.setLink(this.newest, NEWER, index);
      this.newest = index;
      if (this.oldest === NONE) this.oldest = index;
    }
    arena.setLink(index, MOVED_AT, this.moves);
  }

  unlink(index: number): void {
    const arena = this.arena;
    if (arena.link(index, MOVED_AT) === UNLINKED) return;
    const newer = arena.link(index, NEWER);
    const older = arena.link(index, OLDER);
    if (newer !== NONE) arena.setLink(newer, OLDER, older);
    else this.newest = older;
    if (older !== NONE) arena.setLink(older, NEWER, newer);
    else this.oldest = newer;
    arena.setLink(index, NEWER, NONE);
    arena.setLink(index, OLDER, NONE);
    arena.setLink(index, MOVED_AT, UNLINKED);
  }

  clear(): void {
    this.newest = NONE;
    this.oldest = NONE;
  }
}

/**
 * Entries grouped by the second of their expiry, with a cursor over the seconds already past.
 *
 * Each second's entries form a list threaded through their records; the heads are in a map from
 * second to entry, except the head of the latest second filed into (the "hot" second), which is
 * kept in two fields: in steady traffic almost every update files into that second, and a field
 * is far cheaper than a hash-map read and write per decision.
 */
export class ExpiryIndex {
  /** Heads of every second's list but the hot one's. */
  private readonly slots = new Map<number, number>();
  private hotSlot = Number.NEGATIVE_INFINITY;
  private hotHead = NONE;
  /** Slots are seconds since `base`, so they stay small integers. */
  private readonly base: number;
  private cursor = Number.POSITIVE_INFINITY;
  /** The earliest time at which an indexed entry can have expired (`expired()` finds nothing before). */
  nextDueAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly arena: EntryArena,
    nowMs: number,
  ) {
    this.base = Math.floor(nowMs / EXPIRY_SLOT_MS) * EXPIRY_SLOT_MS;
  }

  /** Files `index` under its current expiry (moving it if it changed second). */
  update(index: number): void {
    const arena = this.arena;
    const offset = arena.expiresAt(index) - this.base;
    // Usually the expiry stays within its second: two multiplications rather than a division.
    if (arena.link(index, SLOT_PREVIOUS) !== UNINDEXED) {
      const current = arena.link(index, SLOT) * EXPIRY_SLOT_MS;
      if (offset >= current && offset < current + EXPIRY_SLOT_MS) return;
    }
    const slot = Math.floor(offset / EXPIRY_SLOT_MS);
    this.remove(index);
    if (slot > this.hotSlot) this.heat(slot);
    const head = this.head(slot);
    arena.setLink(index, SLOT, slot);
    arena.setLink(index, SLOT_PREVIOUS, NONE);
    arena.setLink(index, SLOT_NEXT, head);
    if (head !== NONE) arena.setLink(head, SLOT_PREVIOUS, index);
    this.setHead(slot, index);
    if (slot < this.cursor) this.moveCursor(slot);
  }

  remove(index: number): void {
    const arena = this.arena;
    const previous = arena.link(index, SLOT_PREVIOUS);
    if (previous === UNINDEXED) return;
    const next = arena.link(index, SLOT_NEXT);
    if (next !== NONE) arena.setLink(next, SLOT_PREVIOUS, previous);
    if (previous !== NONE) arena.setLink(previous, SLOT_NEXT, next);
    else this.setHead(arena.link(index, SLOT), next);
    arena.setLink(index, SLOT_PREVIOUS, UNINDEXED);
    arena.setLink(index, SLOT_NEXT, NONE);
  }

  /**
   * An entry whose whole expiry second lies before `nowMs`, or {@link NONE}. Walks at most `budget`
   * empty seconds per call, so one call after a long idle stretch stays cheap; when the index has
   * fewer seconds than the gap, it jumps to the earliest one instead of walking.
   */
  expired(nowMs: number, budget: number): number {
    const seconds = this.slots.size + (this.hotHead === NONE ? 0 : 1);
    if (seconds === 0) {
      this.moveCursor(Number.POSITIVE_INFINITY);
      return NONE;
    }
    const nowSlot = Math.floor((nowMs - this.base) / EXPIRY_SLOT_MS);
    if (nowSlot - this.cursor > seconds) this.moveCursor(this.earliestSlot());
    for (let steps = 0; this.cursor < nowSlot && steps < budget; steps += 1) {
      const head = this.head(this.cursor);
      if (head !== NONE) return head;
      this.moveCursor(this.cursor + 1);
    }
    return NONE;
  }

  clear(): void {
    this.slots.clear();
    this.hotSlot = Number.NEGATIVE_INFINITY;
    this.hotHead = NONE;
    this.moveCursor(Number.POSITIVE_INFINITY);
  }

  private head(slot: number): number {
    return slot === this.hotSlot ? this.hotHead : (this.slots.get(slot) ?? NONE);
  }

  private setHead(slot: number, index: number): void {
    if (slot === this.hotSlot) this.hotHead = index;
    else if (index === NONE) this.slots.delete(slot);
    else this.slots.set(slot, index);
  }

  /** Makes `slot` the hot second: its head moves out of the map, the old hot head into it. */
  private heat(slot: number): void {
    if (this.hotHead !== NONE) this.slots.set(this.hotSlot, this.hotHead);
    this.hotSlot = slot;
    this.hotHead = this.slots.get(slot) ?? NONE;
    if (this.hotHead !== NONE) this.slots.delete(slot);
  }

  private moveCursor(slot: number): void {
    this.cursor = slot;
    this.nextDueAt = this.base + (slot + 1) * EXPIRY_SLOT_MS;
  }

  private earliestSlot(): number {
    let earliest = this.hotHead === NONE ? Number.POSITIVE_INFINITY : this.hotSlot;
    for (const slot of this.slots.keys()) if (slot < earliest) earliest = slot;
    return earliest;
  }
}
