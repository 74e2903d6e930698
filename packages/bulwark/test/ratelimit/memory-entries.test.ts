import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryArena, EXPIRY_SLOT_MS, ExpiryIndex, NONE } from '../../src/ratelimit/memory-entries.js';

const BASE = 1_700_000_000_000;
const table = new Map<string, number>();

/** An arena of `size` entries, all allocated, and an expiry index over them. */
function setup(size: number): { arena: EntryArena; index: ExpiryIndex } {
  const arena = new EntryArena(size);
  for (let entry = 0; entry < size; entry += 1) arena.allocate(`k${entry}`, table);
  return { arena, index: new ExpiryIndex(arena, BASE) };
}

function file(arena: EntryArena, index: ExpiryIndex, entry: number, expiresAt: number): void {
  arena.setExpiresAt(entry, expiresAt);
  index.update(entry);
}

/** Every entry `expired()` hands out while removing each one, in order. */
function drain(index: ExpiryIndex, nowMs: number): number[] {
  const out: number[] = [];
  for (let found = index.expired(nowMs, 1_000_000); found !== NONE; found = index.expired(nowMs, 1_000_000)) {
    out.push(found);
    index.remove(found);
  }
  return out;
}

describe('expiry index', () => {
  it('finds entries of an older second filed after a newer one (the newer second holds the cached head)', () => {
    const { arena, index } = setup(4);
    file(arena, index, 0, BASE + 5 * EXPIRY_SLOT_MS + 10);
    file(arena, index, 1, BASE + 2 * EXPIRY_SLOT_MS + 10);
    file(arena, index, 2, BASE + 5 * EXPIRY_SLOT_MS + 20);
    expect(index.expired(BASE + 3 * EXPIRY_SLOT_MS, 100)).toBe(1);
    expect(drain(index, BASE + 3 * EXPIRY_SLOT_MS)).toEqual([1]);
    expect(index.expired(BASE + 5 * EXPIRY_SLOT_MS + 500, 100)).toBe(NONE);
    expect(drain(index, BASE + 6 * EXPIRY_SLOT_MS).sort()).toEqual([0, 2]);
  });

  it('moves an entry between seconds, including out of and back into the cached second', () => {
    const { arena, index } = setup(3);
    file(arena, index, 0, BASE + 9 * EXPIRY_SLOT_MS);
    file(arena, index, 1, BASE + 9 * EXPIRY_SLOT_MS + 1);
    file(arena, index, 0, BASE + 1 * EXPIRY_SLOT_MS);
    file(arena, index, 2, BASE + 12 * EXPIRY_SLOT_MS);
    file(arena, index, 1, BASE + 2 * EXPIRY_SLOT_MS);
    expect(drain(index, BASE + 3 * EXPIRY_SLOT_MS)).toEqual([0, 1]);
    file(arena, index, 0, BASE + 12 * EXPIRY_SLOT_MS + 5);
    expect(drain(index, BASE + 13 * EXPIRY_SLOT_MS).sort()).toEqual([0, 2]);
    expect(index.expired(BASE + 100 * EXPIRY_SLOT_MS, 100)).toBe(NONE);
  });

  it('empties the cached second when its last entry is removed, and jumps gaps longer than the budget', () => {
    const { arena, index } = setup(2);
    file(arena, index, 0, BASE + 3 * EXPIRY_SLOT_MS);
    index.remove(0);
    expect(index.expired(BASE + 10 * EXPIRY_SLOT_MS, 2)).toBe(NONE);
    file(arena, index, 1, BASE + 500 * EXPIRY_SLOT_MS);
    file(arena, index, 0, BASE + 400 * EXPIRY_SLOT_MS);
    // 400 empty seconds behind the cursor, a budget of 2: it jumps to the earliest filed second.
    expect(index.expired(BASE + 450 * EXPIRY_SLOT_MS, 2)).toBe(0);
    index.clear();
    expect(index.expired(BASE + 1000 * EXPIRY_SLOT_MS, 100)).toBe(NONE);
  });

  it('hands out exactly the entries whose whole second has passed, whatever the order of updates (property)', () => {
    const entries = 12;
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('file' as const), entry: fc.nat(entries - 1), second: fc.nat(20), ms: fc.nat(EXPIRY_SLOT_MS - 1) }),
      fc.record({ kind: fc.constant('remove' as const), entry: fc.nat(entries - 1) }),
      fc.record({ kind: fc.constant('drain' as const), second: fc.nat(22) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 80 }), (operations) => {
        const { arena, index } = setup(entries);
        const model = new Map<number, number>(); // entry → expiry second
        let clock = 0; // seconds; drains only move forward, as time does (files may land in the past)
        for (const op of operations) {
          if (op.kind === 'file') {
            const second = op.second;
            file(arena, index, op.entry, BASE + second * EXPIRY_SLOT_MS + op.ms);
            model.set(op.entry, second);
          } else if (op.kind === 'remove') {
            index.remove(op.entry);
            model.delete(op.entry);
          } else {
            clock = Math.max(clock, op.second);
            const due = [...model].filter(([, second]) => second < clock).map(([entry]) => entry);
            expect(drain(index, BASE + clock * EXPIRY_SLOT_MS).sort((a, b) => a - b)).toEqual(due.sort((a, b) => a - b));
            for (const entry of due) model.delete(entry);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
