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
 * are set relative to it, with a slack, only so that abandoned keys disappear. Timestamps are whole
 * milliseconds below 2^53, which Lua's doubles hold exactly and Redis prints without an exponent.
 *
 * Written for speed where it runs on every request (validate): each script carries only the helpers
 * it uses, stored values are returned as Redis gave them (no re-formatting), and the lockout policy
 * travels as one packed argument that is only parsed when a failure is counted.
 */
import { MAX_POINTER_HOPS, TTL_SLACK_MS } from './backend.js';

/** Every script: the user's key base and the caller's clock. */
const CORE = `
local SLACK = ${TTL_SLACK_MS}
local base = ARGV[1]
local now = tonumber(ARGV[2])
`;

/** Reading sessions, following renewal pointers, dropping expired ones, replying. */
const SESSIONS = `
local FIELDS = {'v','t','u','c','is','ie','ae','ipm','ip','fpm','fp','d','pid','pu','n','g'}

-- A session record, a pointer record ({ n, g }), or nil.
local function load(key)
  local r = redis.call('HMGET', key, unpack(FIELDS))
  if r[15] then return { key = key, n = r[15], g = tonumber(r[16]) or 0 } end
  if not r[1] then return nil end
  return { key = key, r = r, v = tonumber(r[1]), ie = tonumber(r[6]), ae = tonumber(r[7]), pid = r[13] or '', pu = tonumber(r[14]) or 0 }
end

-- Follows renewal pointers from id: the record, or nil and why, and whether a pointer was followed.
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

-- status, id, v, t, u, c, is, ie, ae, d, pid, pu, extra
local function reply(status, rec, extra)
  local r = rec.r
  local pid, pu = '', 0
  if rec.pid ~= '' and now < rec.pu then pid = rec.pid; pu = rec.pu end
  return { status, rec.id, rec.v, r[2], r[3], r[4], r[5], rec.ie, rec.ae, r[12], pid, pu, extra or 0 }
end

local function touchTtl(key, ie, ae)
  redis.call('PEXPIRE', key, math.min(ie, ae) - now + SLACK)
end
`;

/** The user's index of session ids. */
const INDEX = `
-- Keeps the index's own TTL at the latest absolute expiry it holds.
local function indexTtl(index)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIRE', index, math.max(tonumber(last[2]) - now, 0) + SLACK) end
end
`;

/** The lockout record: is the account locked, and counting a failure. */
const LOCKS = `
-- The later end of the locks in the current and the previous key's record (0 when none).
local function lockedUntil(lockKey, previousKey)
  local lu = tonumber(redis.call('HGET', lockKey, 'lu')) or 0
  if previousKey ~= lockKey then
    local previous = tonumber(redis.call('HGET', previousKey, 'lu')) or 0
    if previous > lu then lu = previous end
  end
  return lu
end

-- One failure: counted and the TTL set in the same step (INCR and EXPIRE together); at the
-- threshold the account locks for lockMs x factor^strikes (capped). Failures during a lock are not
-- counted. policy = 'threshold:windowMs:lockMs:factor:maxLockMs:memoryMs'.
-- Returns lockedUntil, failures, started (0/1).
local function fail(lockKey, policy)
  local threshold, windowMs, lockMs, factor, maxLockMs, memoryMs = string.match(policy, '^(%d+):(%d+):(%d+):([%d.]+):(%d+):(%d+)$')
  threshold, windowMs, lockMs, factor, maxLockMs, memoryMs = tonumber(threshold), tonumber(windowMs), tonumber(lockMs), tonumber(factor), tonumber(maxLockMs), tonumber(memoryMs)
  local r = redis.call('HMGET', lockKey, 'f', 'ws', 'lu', 'k', 'ks')
  local f, ws, lu, k, ks = tonumber(r[1]) or 0, tonumber(r[2]) or 0, tonumber(r[3]) or 0, tonumber(r[4]) or 0, tonumber(r[5]) or 0
  if lu > now then return lu, 0, 0 end
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
  redis.call('HSET', lockKey, 'f', f, 'ws', ws, 'lu', lu, 'k', k, 'ks', ks)
  local keep = math.max(ws + windowMs, lu)
  if k > 0 then keep = math.max(keep, ks + memoryMs) end
  redis.call('PEXPIRE', lockKey, keep - now + SLACK)
  return lu, f, started
end
`;

/**
 * KEYS: session, lock[, previous lock (during a key rotation)]. ARGV: now, idleMs, ipMode, ip1, ip2,
 * fpMode, fp, policy ('' when mismatches are not counted), touchMs.
 *
 * The hot path, so leaner than the others: written out in full rather than through the helpers
 * above (defining functions is work a script repeats on every call; the failure counter is defined
 * only in the branch that needs it), the user's key base and the id taken from the session key
 * (\`<base>s:<43-character id>\`) instead of sent again, and a compact reply:
 * { 'valid', 'v:c:is:ie:ae:pu', t, u, d, pid or '', id if a pointer was followed or '' }.
 * Same semantics as resolve/expired/drop/reply.
 */
const VALIDATE = `
local SLACK = ${TTL_SLACK_MS}
local now = tonumber(ARGV[1])
local base = string.sub(KEYS[1], 1, -46)
local id = string.sub(KEYS[1], -43)
local key, r
local followed = 0
for hop = 1, ${MAX_POINTER_HOPS} do
  key = base .. 's:' .. id
  r = redis.call('HMGET', key, 'v','t','u','c','is','ie','ae','ipm','ip','fpm','fp','d','pid','pu','n','g')
  if not r[15] then break end
  if now >= (tonumber(r[16]) or 0) then redis.call('DEL', key); return { 'expired' } end
  id = r[15]; followed = 1; r = nil
end
if not r or not r[1] then return { 'not_found' } end
local lu = tonumber(redis.call('HGET', KEYS[2], 'lu')) or 0
if KEYS[3] then
  local previous = tonumber(redis.call('HGET', KEYS[3], 'lu')) or 0
  if previous > lu then lu = previous end
end
if lu > now then return { 'locked' } end
local ie, ae = tonumber(r[6]), tonumber(r[7])
if now >= ie or now >= ae then
  redis.call('DEL', key)
  if r[13] then redis.call('DEL', base .. 's:' .. r[13]) end
  redis.call('ZREM', base .. 'i', id)
  return { 'expired' }
end
local ipMode, ip1, ip2, fpMode, fp = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local set = {}
local mismatch = nil
if ipMode ~= 'off' then
  if r[8] == ipMode then
    if r[9] ~= ip1 then
      if ip2 ~= '' and r[9] == ip2 then set[#set + 1] = 'ip'; set[#set + 1] = ip1 else mismatch = 'ip_mismatch' end
    end
  else
    -- Bound under another mode (the configuration changed): bind to the current one.
    set[#set + 1] = 'ipm'; set[#set + 1] = ipMode; set[#set + 1] = 'ip'; set[#set + 1] = ip1
  end
end
if not mismatch and fpMode ~= 'off' then
  if r[10] == fpMode then
    if r[11] ~= fp then mismatch = 'fingerprint_mismatch' end
  else
    set[#set + 1] = 'fpm'; set[#set + 1] = fpMode; set[#set + 1] = 'fp'; set[#set + 1] = fp
  end
end
if mismatch then
  local started = 0
  if ARGV[8] ~= '' then
${LOCKS}
    local _, _, s = fail(KEYS[2], ARGV[8])
    started = s
  end
  return { mismatch, started }
end
-- The idle touch, skipped while it would move the deadline by less than touchMs.
local touched = math.min(now + tonumber(ARGV[2]), ae)
if touched - ie >= tonumber(ARGV[9]) then
  ie = touched
  set[#set + 1] = 'ie'; set[#set + 1] = ie
  redis.call('PEXPIRE', key, ie - now + SLACK)
end
if #set > 0 then redis.call('HSET', key, unpack(set)) end
local pid, pu = '', 0
if r[13] then
  local until_ = tonumber(r[14]) or 0
  if now < until_ then pid = r[13]; pu = until_ end
end
return { 'valid', r[1] .. ':' .. r[4] .. ':' .. r[5] .. ':' .. ie .. ':' .. r[7] .. ':' .. pu, r[2], r[3], r[12], pid, followed == 1 and id or '' }
`;

/** KEYS: session, lock, previous lock, index. ARGV: base, now, id, tenant, user, ie, ae, ipm, ip, fpm, fp, data, maxPerUser. */
const CREATE = `
if lockedUntil(KEYS[2], KEYS[3]) > now then return { 'locked' } end
local ie, ae = tonumber(ARGV[6]), tonumber(ARGV[7])
redis.call('HSET', KEYS[1], 'v', 1, 't', ARGV[4], 'u', ARGV[5], 'c', now, 'is', now, 'ie', ie, 'ae', ae,
  'ipm', ARGV[8], 'ip', ARGV[9], 'fpm', ARGV[10], 'fp', ARGV[11], 'd', ARGV[12])
touchTtl(KEYS[1], ie, ae)
local index = KEYS[4]
redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
redis.call('ZADD', index, ae, ARGV[3])
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
rec.r[12] = ARGV[6]
rec.ie = math.min(now + tonumber(ARGV[4]), rec.ae)
redis.call('HSET', rec.key, 'v', rec.v, 'd', ARGV[6], 'ie', rec.ie)
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
if lockedUntil(KEYS[2], KEYS[3]) > now then return { 'locked' } end
if expired(rec) then drop(rec); return { 'expired' } end
if ARGV[11] ~= '' and rec.v ~= tonumber(ARGV[11]) then return { 'version_conflict' } end
local r = rec.r
local newId = ARGV[4]
local newKey = base .. 's:' .. newId
local ae = rec.ae
if ARGV[12] ~= '' then ae = now + tonumber(ARGV[12]) end
local ie = math.min(now + tonumber(ARGV[5]), ae)
local data = r[12]
if ARGV[10] ~= '' then data = ARGV[10] end
local fresh = { id = newId, key = newKey, v = rec.v + 1, ie = ie, ae = ae, pid = '', pu = 0, r = { nil, r[2], r[3], r[4], now, nil, nil, nil, nil, nil, nil, data } }
redis.call('HSET', newKey, 'v', fresh.v, 't', r[2], 'u', r[3], 'c', r[4], 'is', now, 'ie', ie, 'ae', ae,
  'ipm', ARGV[6], 'ip', ARGV[7], 'fpm', ARGV[8], 'fp', ARGV[9], 'd', data)
if graceMs > 0 then
  fresh.pid = rec.id; fresh.pu = now + graceMs
  redis.call('HSET', newKey, 'pid', rec.id, 'pu', fresh.pu)
  redis.call('DEL', rec.key)
  redis.call('HSET', rec.key, 'n', newId, 'g', fresh.pu)
  redis.call('PEXPIRE', rec.key, graceMs + SLACK)
else
  -- Regeneration: the old id, and any id it still honoured, die in this same step.
  redis.call('DEL', rec.key)
  if rec.pid ~= '' then redis.call('DEL', base .. 's:' .. rec.pid) end
end
touchTtl(newKey, ie, ae)
local index = KEYS[4]
redis.call('ZREM', index, rec.id)
redis.call('ZADD', index, ae, newId)
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

/** KEYS: lock, previous lock. ARGV: base, now, policy. */
const LOCK_FAIL = `
local previous = tonumber(redis.call('HGET', KEYS[2], 'lu')) or 0
if previous > now then return { 1, previous, 0, 0 } end
local lu, f, started = fail(KEYS[1], ARGV[3])
return { lu > now and 1 or 0, lu, f, started }
`;

/** KEYS: lock, previous lock. ARGV: base, now, windowMs. */
const LOCK_STATUS = `
local r = redis.call('HMGET', KEYS[1], 'f', 'ws')
local f, ws = tonumber(r[1]) or 0, tonumber(r[2]) or 0
local lu = lockedUntil(KEYS[1], KEYS[2])
if now - ws >= tonumber(ARGV[3]) or lu > now then f = 0 end
return { lu > now and 1 or 0, lu, f, 0 }
`;

/** KEYS: lock, previous lock. ARGV: base, now, unlock ('1' forgets everything, '0' only the counted failures). */
const LOCK_RESET = `
for _, key in ipairs(KEYS) do
  if ARGV[3] == '1' then
    redis.call('DEL', key)
  elseif redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'f', 0)
  end
end
return 1
`;

export const SESSION_SCRIPTS = {
  validate: { keys: 2, source: VALIDATE },
  create: { keys: 4, source: CORE + SESSIONS + LOCKS + INDEX + CREATE },
  read: { keys: 1, source: CORE + SESSIONS + READ },
  update: { keys: 1, source: CORE + SESSIONS + UPDATE },
  rotate: { keys: 4, source: CORE + SESSIONS + LOCKS + INDEX + ROTATE },
  revoke: { keys: 2, source: CORE + REVOKE },
  revokeAll: { keys: 3, source: CORE + REVOKE_ALL },
  list: { keys: 1, source: CORE + SESSIONS + LIST },
  lockFail: { keys: 2, source: CORE + LOCKS + LOCK_FAIL },
  lockStatus: { keys: 2, source: CORE + LOCKS + LOCK_STATUS },
  lockReset: { keys: 2, source: CORE + LOCK_RESET },
} as const;

export type SessionScriptName = keyof typeof SESSION_SCRIPTS;
