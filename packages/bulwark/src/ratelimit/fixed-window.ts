/**
 * Fixed window: a counter per aligned window of `windowMs` (windows start at multiples of the
 * window on the epoch, so every instance agrees on the boundaries). Exact within a window, but a
 * client can spend the quota at the end of one window and again at the start of the next: use the
 * sliding-window counter or GCRA where that burst matters.
 */
import { decision, STATE_A, STATE_B, STATE_EXPIRES_AT, type CounterAlgorithm, type StateRecords } from './algorithm.js';
import type { LimitDefinition, RateLimitDecision } from './types.js';

// State: a = start of the window counted (epoch ms), b = its count.
function evaluate(state: StateRecords, at: number, limit: LimitDefinition, nowMs: number, cost: number, commit: boolean): RateLimitDecision {
  const window = limit.windowMs;
  const start = nowMs - (nowMs % window);
  const untilEnd = start + window - nowMs;
  const count = state[at + STATE_A] === start ? (state[at + STATE_B] ?? 0) : 0;
  if (count + cost <= limit.limit) {
    if (commit && cost > 0) {
      state[at + STATE_A] = start;
      state[at + STATE_B] = count + cost;
      state[at + STATE_EXPIRES_AT] = start + window;
    }
    return decision(true, limit.limit, limit.limit - count - cost, count + cost > 0 ? untilEnd : 0, 0, 'ok');
  }
  return decision(false, limit.limit, Math.max(0, limit.limit - count), untilEnd, untilEnd, 'limited');
}

export const fixedWindow: CounterAlgorithm = {
  code: 'f',
  luaName: 'fixed',
  evaluate,
  lua: `
local function fixed_check(key, now_us, limit, window, burst, emission, cost)
  local now = floor_div(now_us, 1000)
  local start = floor_div(now, window) * window
  local until_end = start + window - now
  local v = redis.call('HMGET', key, 'w', 'c')
  local count = 0
  if tonumber(v[1]) == start then count = tonumber(v[2]) or 0 end
  if count + cost <= limit then
    local reset = 0
    if count + cost > 0 then reset = until_end end
    return { 1, limit - count - cost, reset, 0, start, count + cost }
  end
  return { 0, math.max(0, limit - count), until_end, until_end, start, count }
end
local function fixed_write(key, now_us, window, r)
  redis.call('HSET', key, 'w', string.format('%d', r[5]), 'c', string.format('%d', r[6]))
  redis.call('PEXPIRE', key, r[3])
end
`,
};
