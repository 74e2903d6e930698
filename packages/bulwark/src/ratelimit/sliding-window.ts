/**
 * Sliding-window counter: the count of the current aligned window plus the previous window's count
 * weighted by how much of it still overlaps the sliding window ending now. Two numbers per key,
 * smooth at window boundaries (no double burst), and the estimate never exceeds the limit.
 *
 * The comparison is done multiplied out by the window, prev·(W − e) + curr·W + cost·W ≤ limit·W, so
 * it is exact integer arithmetic: Redis and the memory store agree to the unit at every instant.
 * Option bounds keep limit·W below 2^53.
 *
 * In Redis each window's count is one integer (window number modulo 2^20, times 2^30, plus the
 * count) in one of two keys, by the window number's parity: the current and the previous window are
 * read with one MGET, and a request adds to its window's key with INCRBY.
 *
 * @see https://blog.cloudflare.com/counting-things-a-lot-of-different-things/
 */
import { decision, STATE_A, STATE_B, STATE_C, STATE_EXPIRES_AT, type CounterAlgorithm, type StateRecords } from './algorithm.js';
import { ceilDiv, floorDiv } from './integer-math.js';
import type { LimitDefinition, RateLimitDecision } from './types.js';

// State: a = start of the current window (epoch ms), b = current count, c = previous count.
function evaluate(state: StateRecords, at: number, limit: LimitDefinition, nowMs: number, cost: number, commit: boolean): RateLimitDecision {
  const window = limit.windowMs;
  // Not `nowMs % window`: on doubles that is a call to fmod, several times slower than this.
  const start = Math.floor(nowMs / window) * window;
  const elapsed = nowMs - start;
  const counted = state[at + STATE_A] ?? 0;
  let current = 0;
  let previous = 0;
  if (counted === start) {
    current = state[at + STATE_B] ?? 0;
    previous = state[at + STATE_C] ?? 0;
  } else if (counted === start - window) {
    previous = state[at + STATE_B] ?? 0;
  }
  const used = previous * (window - elapsed) + current * window;
  const capacity = limit.limit * window;
  const needed = cost * window;
  if (used + needed <= capacity) {
    if (commit && cost > 0) {
      state[at + STATE_A] = start;
      state[at + STATE_B] = current + cost;
      state[at + STATE_C] = previous;
      state[at + STATE_EXPIRES_AT] = start + 2 * window;
    }
    const resetMs = current + cost > 0 ? window - elapsed + window : previous > 0 ? window - elapsed : 0;
    return decision(true, limit.limit, floorDiv(capacity - used - needed, window), resetMs, 0, 'ok');
  }
  const retryAfterMs =
    current + cost <= limit.limit
      ? // The previous window's weight has to fall far enough within this window.
        ceilDiv((window - elapsed) * previous - (limit.limit - current - cost) * window, previous)
      : // Only the next window can fit it, once this window's count (then "previous") has decayed enough.
        window - elapsed + ceilDiv(window * (current - limit.limit + cost), current);
  const resetMs = current > 0 ? window - elapsed + window : window - elapsed;
  return decision(false, limit.limit, Math.max(0, floorDiv(capacity - used, window)), resetMs, retryAfterMs, 'limited');
}

export const slidingWindow: CounterAlgorithm = {
  code: 's',
  redisKeys: 2,
  luaName: 'sliding',
  evaluate,
  lua: `
local function sliding_check(keys, k, now_us, limit, window, burst, emission, cost)
  local now = floor(now_us / 1000)
  local index = floor(now / window)
  local start = index * window
  local elapsed = now - start
  local parity = index % 2
  local tag = index % WINDOW_TAGS
  local v = redis.call('MGET', keys[k + parity], keys[k + 1 - parity])
  local stored_current, stored_previous = tonumber(v[1]), tonumber(v[2])
  local current, previous, same = 0, 0, 0
  if stored_current and floor(stored_current / COUNT_SPAN) == tag then
    current = stored_current % COUNT_SPAN
    same = 1
  end
  if stored_previous and floor(stored_previous / COUNT_SPAN) == (index - 1) % WINDOW_TAGS then
    previous = stored_previous % COUNT_SPAN
  end
  local used = previous * (window - elapsed) + current * window
  local capacity = limit * window
  local needed = cost * window
  if used + needed <= capacity then
    local reset = 0
    if current + cost > 0 then reset = window - elapsed + window elseif previous > 0 then reset = window - elapsed end
    return 1, floor((capacity - used - needed) / window), reset, 0, tag, parity, same
  end
  local retry
  if current + cost <= limit then
    retry = -floor(((limit - current - cost) * window - (window - elapsed) * previous) / previous)
  else
    retry = window - elapsed - floor(window * (limit - current - cost) / current)
  end
  local reset = window - elapsed
  if current > 0 then reset = reset + window end
  return 0, math.max(0, floor((capacity - used) / window)), reset, retry, tag, parity, same
end
local function sliding_write(keys, k, now_us, window, cost, reset, tag, parity, same)
  local key = keys[k + parity]
  if same == 1 then
    redis.call('INCRBY', key, cost)
  else
    -- A new window: its count starts here; the key lives through the next window, where it is "previous".
    redis.call('SET', key, string.format('%d', tag * COUNT_SPAN + cost), 'PX', math.max(reset + window, MIN_TTL))
  end
end
`,
};
