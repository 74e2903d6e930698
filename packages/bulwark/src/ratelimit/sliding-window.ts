/**
 * Sliding-window counter: the count of the current aligned window plus the previous window's count
 * weighted by how much of it still overlaps the sliding window ending now. Two numbers per key,
 * smooth at window boundaries (no double burst), and the estimate never exceeds the limit.
 *
 * The comparison is done multiplied out by the window, prev·(W − e) + curr·W + cost·W ≤ limit·W, so
 * it is exact integer arithmetic: Redis and the memory store agree to the unit at every instant.
 * Option bounds keep limit·W below 2^53.
 *
 * @see https://blog.cloudflare.com/counting-things-a-lot-of-different-things/
 */
import { decision, STATE_A, STATE_B, STATE_C, STATE_EXPIRES_AT, type CounterAlgorithm, type StateRecords } from './algorithm.js';
import { ceilDiv, floorDiv } from './integer-math.js';
import type { LimitDefinition, RateLimitDecision } from './types.js';

// State: a = start of the current window (epoch ms), b = current count, c = previous count.
function evaluate(state: StateRecords, at: number, limit: LimitDefinition, nowMs: number, cost: number, commit: boolean): RateLimitDecision {
  const window = limit.windowMs;
  const start = nowMs - (nowMs % window);
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
  luaName: 'sliding',
  evaluate,
  lua: `
local function sliding_check(key, now_us, limit, window, burst, emission, cost)
  local now = floor_div(now_us, 1000)
  local start = floor_div(now, window) * window
  local elapsed = now - start
  local v = redis.call('HMGET', key, 'w', 'c', 'p')
  local w = tonumber(v[1])
  local current, previous = 0, 0
  if w == start then
    current = tonumber(v[2]) or 0
    previous = tonumber(v[3]) or 0
  elseif w == start - window then
    previous = tonumber(v[2]) or 0
  end
  local used = previous * (window - elapsed) + current * window
  local capacity = limit * window
  local needed = cost * window
  if used + needed <= capacity then
    local reset = 0
    if current + cost > 0 then reset = window - elapsed + window elseif previous > 0 then reset = window - elapsed end
    return { 1, floor_div(capacity - used - needed, window), reset, 0, start, current + cost, previous }
  end
  local retry
  if current + cost <= limit then
    retry = ceil_div((window - elapsed) * previous - (limit - current - cost) * window, previous)
  else
    retry = window - elapsed + ceil_div(window * (current - limit + cost), current)
  end
  local reset = window - elapsed
  if current > 0 then reset = reset + window end
  return { 0, math.max(0, floor_div(capacity - used, window)), reset, retry, start, current, previous }
end
local function sliding_write(key, now_us, window, r)
  local now = floor_div(now_us, 1000)
  redis.call('HSET', key, 'w', string.format('%d', r[5]), 'c', string.format('%d', r[6]), 'p', string.format('%d', r[7]))
  redis.call('PEXPIRE', key, r[5] + 2 * window - now)
end
`,
};
