/**
 * The Lua scripts of the Redis session backend. Each runs atomically in Redis, so a validation,
 * its idle-timeout touch, the lockout count and the version check cannot interleave with another
 * request's write.
 *
 * Keys: every key of one user starts with `base` = `<prefix>{<userTag>}:` — the same Redis Cluster
 * hash tag — so a script that touches several of them (a session, the user's index, the lockout
 * record, the pointer left by a renewal) stays on one slot. Keys a script only learns while it runs
 * (ids in the index, renewal pointers) are built from `base` inside the script: they carry the same
 * hash tag as the declared keys, so they are always on the node the script runs on (the pattern
 * BullMQ relies on).
 *
 *   <base>s:<id>      HASH  a session (v t u c is ie ae ipm ip fpm fp d [pid pu]) or a renewal pointer (n g)
 *   <base>i           ZSET  the user's session ids, scored by absolute expiry
 *   <base>l:<lockId>  HASH  the lockout record (f ws lu k ks); during a key rotation the record
 *                           under the previous key's lockId is honoured too (never written)
 *
 * Timestamps come from the caller's clock (ARGV `now`) and every expiry is decided against it; TTLs
 * are set relative to it, with a slack, only so that abandoned keys disappear.
 */

import { MAX_POINTER_HOPS, TTL_SLACK_MS } from './backend.js';

/** Shared definitions prepended to every script. */
const PRELUDE = `
local SLACK = ${TTL_SLACK_MS}
local base = ARGV[1]
local now = tonumber(ARGV[2])
local function num(x) return string.format('%.0f', x) end
local FIELDS = {'v','t','u','c','is','ie','ae','ipm','ip','fpm','fp','d','pid','pu','n','g'}

local function load(key)
  local r = redis.call('HMGET', key, unpack(FIELDS))
  if not r[1] and not r[15] then return nil end
  if r[15] then return { key = key, n = r[15], g = tonumber(r[16]) or 0 } end
  return { key = key, v = tonumber(r[1]), t = r[2], u = r[3], c = tonumber(r[4]), is = tonumber(r[5]),
    ie = tonumber(r[6]), ae = tonumber(r[7]), ipm = r[8] or '', ip = r[9] or '', fpm = r[10] or '', fp = r[11] or '',
    d = r[12] or '{}', pid = r[13] or '', pu = tonumber(r[14]) or 0 }
end

-- Follows renewal pointers from id; returns the record, or nil and why, and whether a pointer was followed.
local function resolve(id)
  for hop = 1, ${MAX_POINTER_HOPS} do
    local key = base .. 's:' .. id
    local rec = load(key)
    if not rec then return nil, 'not_found', false end
    if not rec.n then rec.id = id; return rec, nil, hop > 1 end
    if now >= rec.g then redis.call('DEL', key); return nil, 'expired', false end
    id = rec.n
  end
  return nil, 'not_found', false
end

local function expired(rec) return now >= rec.ie or now >= rec.ae end

local function drop(rec)
  redis.call('DEL', rec.key)
  if rec.pid ~= '' then redis.call('DEL', base .. 's:' .. rec.pid) end
  redis.call('ZREM', base .. 'i', rec.id)
end

local function reply(status, rec, extra)
  local pid, pu = '', '0'
  if rec.pid ~= '' and now < rec.pu then pid = rec.pid; pu = num(rec.pu) end
  return { status, rec.id, num(rec.v), rec.t, rec.u, num(rec.c), num(rec.is), num(rec.ie), num(rec.ae), rec.d, pid, pu, extra or '0' }
end

local function touchTtl(key, ie, ae)
  redis.call('PEXPIRE', key, num(math.min(ie, ae) - now + SLACK))
end

-- Keeps the index's own TTL at the latest absolute expiry it holds.
local function indexTtl(index)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIRE', index, num(math.max(tonumber(last[2]) - now, 0) + SLACK))
  end
end

local function lockRead(lockKey)
  local r = redis.call('HMGET', lockKey, 'f', 'ws', 'lu', 'k', 'ks')
  return tonumber(r[1]) or 0, tonumber(r[2]) or 0, tonumber(r[3]) or 0, tonumber(r[4]) or 0, tonumber(r[5]) or 0
end

-- The later end of the locks in the current and the previous key's record (0 when none).
local function lockedUntil(lockKey, previousKey)
  local _, _, lu = lockRead(lockKey)
  local _, _, previous = lockRead(previousKey)
  return math.max(lu, previous)
end

local function isLocked(lockKey, previousKey) return lockedUntil(lockKey, previousKey) > now end

-- One failure: counted and the TTL set in the same step (INCR and EXPIRE together); at the
-- threshold the account locks for lockMs x factor^strikes (capped). Failures during a lock are not counted.
-- Returns locked (0/1), lockedUntil, failures, started (0/1).
local function fail(lockKey, threshold, windowMs, lockMs, factor, maxLockMs, memoryMs)
  local f, ws, lu, k, ks = lockRead(lockKey)
  if lu > now then return 1, lu, 0, 0 end
  if f == 0 or now - ws >= windowMs then f = 0; ws = now end
  f = f + 1
  local started = 0
  if f >= threshold then
    if k > 0 and now - ks >= memoryMs then k = 0 end
    local duration = lockMs * (factor ^ k)
    if duration > maxLockMs then duration = maxLockMs end
    lu = now + math.floor(duration)
    k = k + 1; ks = now; f = 0; ws = now
    started = 1
  end
  redis.call('HSET', lockKey, 'f', num(f), 'ws', num(ws), 'lu', num(lu), 'k', num(k), 'ks', num(ks))
  local keep = math.max(ws + windowMs, lu)
  if k > 0 then keep = math.max(keep, ks + memoryMs) end
  redis.call('PEXPIRE', lockKey, num(keep - now + SLACK))
  return started, lu, f, started
end
`;

/**
 * KEYS: session, lock, previous lock. ARGV: base, now, id, idleMs, ipMode, ip1, ip2, fpMode, fp,
 * count, threshold, windowMs, lockMs, factor, maxLockMs, memoryMs.
 */
const VALIDATE = `
local rec, why, followed = resolve(ARGV[3])
if not rec then return { why } end
if isLocked(KEYS[2], KEYS[3]) then return { 'locked' } end
if expired(rec) then drop(rec); return { 'expired' } end
local idleMs = tonumber(ARGV[4])
local ipMode, ip1, ip2, fpMode, fp = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local set = {}
local mismatch = nil
if ipMode ~= 'off' then
  if rec.ipm == ipMode then
    if rec.ip ~= ip1 then
      if ip2 ~= '' and rec.ip == ip2 then set[#set + 1] = 'ip'; set[#set + 1] = ip1 else mismatch = 'ip_mismatch' end
    end
  else
    -- Bound under another mode (the configuration changed): bind to the current one.
    set[#set + 1] = 'ipm'; set[#set + 1] = ipMode; set[#set + 1] = 'ip'; set[#set + 1] = ip1
  end
end
if not mismatch and fpMode ~= 'off' then
  if rec.fpm == fpMode then
    if rec.fp ~= fp then mismatch = 'fingerprint_mismatch' end
  else
    set[#set + 1] = 'fpm'; set[#set + 1] = fpMode; set[#set + 1] = 'fp'; set[#set + 1] = fp
  end
end
if mismatch then
  local started = 0
  if ARGV[10] == '1' then
    local _, _, _, s = fail(KEYS[2], tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16]))
    started = s
  end
  return { mismatch, num(started) }
end
rec.ie = math.min(now + idleMs, rec.ae)
set[#set + 1] = 'ie'; set[#set + 1] = num(rec.ie)
redis.call('HSET', rec.key, unpack(set))
touchTtl(rec.key, rec.ie, rec.ae)
return reply('valid', rec, followed and '1' or '0')
`;

/** KEYS: session, lock, previous lock, index. ARGV: base, now, id, tenant, user, ie, ae, ipm, ip, fpm, fp, data, maxPerUser. */
const CREATE = `
if isLocked(KEYS[2], KEYS[3]) then return { 'locked' } end
local ie, ae = tonumber(ARGV[6]), tonumber(ARGV[7])
redis.call('HSET', KEYS[1], 'v', '1', 't', ARGV[4], 'u', ARGV[5], 'c', num(now), 'is', num(now), 'ie', num(ie), 'ae', num(ae),
  'ipm', ARGV[8], 'ip', ARGV[9], 'fpm', ARGV[10], 'fp', ARGV[11], 'd', ARGV[12])
touchTtl(KEYS[1], ie, ae)
local index = KEYS[4]
redis.call('ZREMRANGEBYSCORE', index, '-inf', num(now))
redis.call('ZADD', index, num(ae), ARGV[3])
local max = tonumber(ARGV[13])
if redis.call('ZCARD', index) > max then
  -- First forget ids whose session already ended (idle timeout), then end the oldest logins.
  for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    if redis.call('EXISTS', base .. 's:' .. id) == 0 then redis.call('ZREM', index, id) end
  end
  while redis.call('ZCARD', index) > max do
    local oldest = redis.call('ZRANGE', index, 0, 0)[1]
    local pid = redis.call('HGET', base .. 's:' .. oldest, 'pid')
    redis.call('DEL', base .. 's:' .. oldest)
    if pid then redis.call('DEL', base .. 's:' .. pid) end
    redis.call('ZREM', index, oldest)
  end
end
indexTtl(index)
return { 'ok' }
`;

/** KEYS: session. ARGV: base, now, id. */
const READ = `
local rec, why = resolve(ARGV[3])
if not rec then return { why } end
if expired(rec) then drop(rec); return { 'expired' } end
return reply('found', rec)
`;

/** KEYS: session. ARGV: base, now, id, idleMs, expectedVersion, data. */
const UPDATE = `
local rec, why = resolve(ARGV[3])
if not rec then return { why } end
if expired(rec) then drop(rec); return { 'expired' } end
if rec.v ~= tonumber(ARGV[5]) then return { 'version_conflict' } end
rec.v = rec.v + 1
rec.d = ARGV[6]
rec.ie = math.min(now + tonumber(ARGV[4]), rec.ae)
redis.call('HSET', rec.key, 'v', num(rec.v), 'd', rec.d, 'ie', num(rec.ie))
touchTtl(rec.key, rec.ie, rec.ae)
return reply('ok', rec)
`;

/**
 * KEYS: session, lock, previous lock, index. ARGV: base, now, id, newId, idleMs, ipm, ip, fpm, fp,
 * data ('' keeps), expectedVersion ('' skips), absoluteMs ('' keeps), graceMs.
 */
const ROTATE = `
local rec, why, followed = resolve(ARGV[3])
if not rec then return { why } end
local graceMs = tonumber(ARGV[13])
-- A renewal reaching an id that was already renewed: another request got there first.
if followed and graceMs > 0 then return { 'version_conflict' } end
if isLocked(KEYS[2], KEYS[3]) then return { 'locked' } end
if expired(rec) then drop(rec); return { 'expired' } end
if ARGV[11] ~= '' and rec.v ~= tonumber(ARGV[11]) then return { 'version_conflict' } end
local newId = ARGV[4]
local newKey = base .. 's:' .. newId
local ae = rec.ae
if ARGV[12] ~= '' then ae = now + tonumber(ARGV[12]) end
local ie = math.min(now + tonumber(ARGV[5]), ae)
local data = rec.d
if ARGV[10] ~= '' then data = ARGV[10] end
local fresh = { id = newId, key = newKey, v = rec.v + 1, t = rec.t, u = rec.u, c = rec.c, is = now, ie = ie, ae = ae, d = data, pid = '', pu = 0 }
redis.call('HSET', newKey, 'v', num(fresh.v), 't', fresh.t, 'u', fresh.u, 'c', num(fresh.c), 'is', num(now), 'ie', num(ie), 'ae', num(ae),
  'ipm', ARGV[6], 'ip', ARGV[7], 'fpm', ARGV[8], 'fp', ARGV[9], 'd', data)
if graceMs > 0 then
  fresh.pid = rec.id; fresh.pu = now + graceMs
  redis.call('HSET', newKey, 'pid', rec.id, 'pu', num(fresh.pu))
  redis.call('DEL', rec.key)
  redis.call('HSET', rec.key, 'n', newId, 'g', num(fresh.pu))
  redis.call('PEXPIRE', rec.key, num(graceMs + SLACK))
else
  -- Regeneration: the old id, and any id it still honoured, die in this same step.
  redis.call('DEL', rec.key)
  if rec.pid ~= '' then redis.call('DEL', base .. 's:' .. rec.pid) end
end
touchTtl(newKey, ie, ae)
local index = KEYS[4]
redis.call('ZREM', index, rec.id)
redis.call('ZADD', index, num(ae), newId)
indexTtl(index)
return reply('ok', fresh)
`;

/** KEYS: session, index. ARGV: base, now, id. Deletes the session, the ids it honours and the id it was renewed to. */
const REVOKE = `
local id = ARGV[3]
local deleted = 0
for hop = 1, ${MAX_POINTER_HOPS} do
  local key = base .. 's:' .. id
  local r = redis.call('HMGET', key, 'v', 'pid', 'n')
  if not r[1] and not r[3] then break end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[2], id)
  if r[2] then redis.call('DEL', base .. 's:' .. r[2]) end
  deleted = 1
  if not r[3] then break end
  id = r[3]
end
return deleted
`;

/** KEYS: index, lock, previous lock. ARGV: base, now, exceptId ('' for none), deleteUser ('1' also drops the index and lockout records). */
const REVOKE_ALL = `
local index = KEYS[1]
local count = 0
for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  if id ~= ARGV[3] then
    local key = base .. 's:' .. id
    local pid = redis.call('HGET', key, 'pid')
    count = count + redis.call('DEL', key)
    if pid then redis.call('DEL', base .. 's:' .. pid) end
    redis.call('ZREM', index, id)
  end
end
if ARGV[4] == '1' then
  redis.call('DEL', index, KEYS[2], KEYS[3])
end
return count
`;

/** KEYS: index. ARGV: base, now. The live sessions, oldest first; prunes ids whose session is gone. */
const LIST = `
local index = KEYS[1]
local out = {}
for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local rec = load(base .. 's:' .. id)
  if not rec or rec.n then
    redis.call('ZREM', index, id)
  else
    rec.id = id
    if expired(rec) then drop(rec) else out[#out + 1] = reply('found', rec) end
  end
end
return out
`;

/** KEYS: lock, previous lock. ARGV: base, now, threshold, windowMs, lockMs, factor, maxLockMs, memoryMs. */
const LOCK_FAIL = `
local _, _, previous = lockRead(KEYS[2])
if previous > now then return { '1', num(previous), '0', '0' } end
local locked, lu, f, started = fail(KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]))
if lu > now then locked = 1 end
return { num(locked), num(lu), num(f), num(started) }
`;

/** KEYS: lock, previous lock. ARGV: base, now, windowMs. */
const LOCK_STATUS = `
local f, ws = lockRead(KEYS[1])
local lu = lockedUntil(KEYS[1], KEYS[2])
if now - ws >= tonumber(ARGV[3]) then f = 0 end
if lu > now then f = 0 end
return { lu > now and '1' or '0', num(lu), num(f), '0' }
`;

/** KEYS: lock, previous lock. ARGV: base, now, unlock ('1' forgets everything, '0' only the counted failures). */
const LOCK_RESET = `
for _, key in ipairs(KEYS) do
  if ARGV[3] == '1' then
    redis.call('DEL', key)
  elseif redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'f', '0')
  end
end
return 1
`;

export const SESSION_SCRIPTS = {
  validate: { keys: 3, source: PRELUDE + VALIDATE },
  create: { keys: 4, source: PRELUDE + CREATE },
  read: { keys: 1, source: PRELUDE + READ },
  update: { keys: 1, source: PRELUDE + UPDATE },
  rotate: { keys: 4, source: PRELUDE + ROTATE },
  revoke: { keys: 2, source: PRELUDE + REVOKE },
  revokeAll: { keys: 3, source: PRELUDE + REVOKE_ALL },
  list: { keys: 1, source: PRELUDE + LIST },
  lockFail: { keys: 2, source: PRELUDE + LOCK_FAIL },
  lockStatus: { keys: 2, source: PRELUDE + LOCK_STATUS },
  lockReset: { keys: 2, source: PRELUDE + LOCK_RESET },
} as const;

export type SessionScriptName = keyof typeof SESSION_SCRIPTS;
