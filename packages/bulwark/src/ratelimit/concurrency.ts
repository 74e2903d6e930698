/**
 * Concurrency leases: at most `limit` units held at once per key, each lease expiring after a TTL
 * so that a holder that crashed (or forgot to release) cannot leak its slots for good.
 *
 * In Redis a key has a sorted set of leases scored by expiry (member `<cost>:<lease id>`) and a
 * counter of the units held, which keeps acquiring O(log n) instead of summing every lease. Expired
 * leases are swept at the next acquire; the counter outlives the set (its TTL is renewed on every
 * change), and an empty set resets it, so the two cannot drift apart for long.
 *
 * In memory a key has a `Map` of lease → expiry in insertion order; leases of one limiter share one
 * TTL, so insertion order is expiry order and sweeping is amortised O(1).
 */
import { randomBytes } from 'node:crypto';
import { decision } from './algorithm.js';
import type { LimitDefinition, RateLimitDecision } from './types.js';

let leasePrefix: string | undefined;
let leaseCounter = 0;

/** A lease id unique across processes: a random per-process prefix and a counter. */
export function nextLeaseId(): string {
  leasePrefix ??= randomBytes(9).toString('base64url');
  leaseCounter += 1;
  return `${leasePrefix}${leaseCounter.toString(36)}`;
}

/** The lease member string, shared by both stores: the cost first so a sweep can read it back. */
export function leaseMember(cost: number, id: string): string {
  return `${cost}:${id}`;
}

/** The cost encoded in a lease member. */
export function leaseCost(member: string): number {
  const cost = Number.parseInt(member, 10);
  return Number.isFinite(cost) && cost > 0 ? cost : 1;
}

/** The leases of one key in the memory store. */
export interface LeaseTable {
  /** member → expiry (epoch ms), insertion order = expiry order. */
  readonly leases: Map<string, number>;
  /** Units held. */
  held: number;
}

/** Drops expired leases from the front of the table. */
export function sweepLeases(table: LeaseTable, nowMs: number): void {
  for (const [member, expiresAt] of table.leases) {
    if (expiresAt > nowMs) break;
    table.leases.delete(member);
    table.held -= leaseCost(member);
  }
  if (table.leases.size === 0) table.held = 0;
}

/** Decides (and with `member` set, records) a lease of `cost` units in the memory store. */
export function acquireInTable(table: LeaseTable, limit: LimitDefinition, nowMs: number, cost: number, member: string | undefined): RateLimitDecision {
  sweepLeases(table, nowMs);
  if (table.held + cost > limit.limit) {
    const wait = Math.max(1, firstExpiry(table, nowMs) - nowMs);
    return decision(false, limit.limit, Math.max(0, limit.limit - table.held), wait, wait, 'limited');
  }
  if (cost > 0 && member !== undefined) {
    table.leases.set(member, nowMs + limit.windowMs);
    table.held += cost;
  }
  const lastExpiry = lastExpiryOf(table);
  return decision(true, limit.limit, limit.limit - table.held - (member === undefined ? cost : 0), lastExpiry === 0 ? 0 : lastExpiry - nowMs, 0, 'ok');
}

/** Releases one lease; returns whether it was still held. */
export function releaseInTable(table: LeaseTable, member: string): boolean {
  if (!table.leases.delete(member)) return false;
  table.held = table.leases.size === 0 ? 0 : table.held - leaseCost(member);
  return true;
}

function firstExpiry(table: LeaseTable, nowMs: number): number {
  for (const expiresAt of table.leases.values()) return expiresAt;
  return nowMs + 1;
}

function lastExpiryOf(table: LeaseTable): number {
  let last = 0;
  // Leases share one TTL, so the last inserted is the last to expire; a Map has no O(1) last entry,
  // but tables are small (at most `limit` leases) and this runs only for allowed acquisitions.
  for (const expiresAt of table.leases.values()) last = expiresAt;
  return last;
}

/**
 * KEYS: the lease set, the held-units counter. ARGV: now in µs ('' = Redis TIME), limit, TTL ms,
 * cost, member ('' = peek). Returns { allowed, remaining, reset_ms, retry_ms }.
 */
export const CONCURRENCY_ACQUIRE_LUA = `
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = math.floor(tonumber(ARGV[1]) / 1000)
end
local set, counter = KEYS[1], KEYS[2]
local limit, ttl, cost, member = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
-- Leases expire by their score; the keys' TTL only cleans up, so it leaves room for clock drift.
local key_ttl = math.max(ttl * 2, 10000)
local used = tonumber(redis.call('GET', counter)) or 0
local expired = redis.call('ZRANGEBYSCORE', set, '-inf', now)
local changed = false
if #expired > 0 then
  for i = 1, #expired do
    used = used - (tonumber(string.match(expired[i], '^(%d+):')) or 1)
  end
  redis.call('ZREMRANGEBYSCORE', set, '-inf', now)
  changed = true
end
if redis.call('ZCARD', set) == 0 or used < 0 then used = 0 end
if used + cost > limit then
  local first = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
  local wait = 1
  if first[2] then wait = math.max(1, tonumber(first[2]) - now) end
  if changed then redis.call('SET', counter, string.format('%d', used), 'PX', key_ttl) end
  return { 0, math.max(0, limit - used), wait, wait }
end
if cost > 0 and member ~= '' then
  redis.call('ZADD', set, now + ttl, cost .. ':' .. member)
  redis.call('PEXPIRE', set, key_ttl)
  used = used + cost
  changed = true
end
if changed then redis.call('SET', counter, string.format('%d', used), 'PX', key_ttl) end
local remaining = limit - used
if member == '' then remaining = remaining - cost end
local last = redis.call('ZRANGE', set, -1, -1, 'WITHSCORES')
local reset = 0
if last[2] then reset = math.max(0, tonumber(last[2]) - now) end
return { 1, remaining, reset, 0 }
`;

/** KEYS: the lease set, the counter. ARGV: member. Returns 1 when the lease was still held. */
export const CONCURRENCY_RELEASE_LUA = `
local cost = tonumber(string.match(ARGV[1], '^(%d+):')) or 1
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
else
  -- DECRBY keeps the counter's TTL; should the counter have vanished, it gets the set's TTL back.
  if redis.call('DECRBY', KEYS[2], cost) < 0 then redis.call('SET', KEYS[2], '0') end
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
end
return 1
`;
