/**
 * Fixed window: a counter per aligned window of `windowMs` (windows start at multiples of the
 * window on the epoch, so every instance agrees on the boundaries). Exact within a window, but a
 * client can spend the quota at the end of one window and again at the start of the next: use the
 * sliding-window counter or GCRA where that burst matters.
 *
 * In Redis a key holds one integer: the window's number (modulo 2^20) times 2^30 plus its count, so
 * a request is a GET and an INCRBY, and a count left from an earlier window is recognised by its
 * number whatever the clocks say (its TTL only cleans up).
 */
import { decision, STATE_A, STATE_B, STATE_EXPIRES_AT, type CounterAlgorithm, type StateRecords } from './algorithm.js';
import type { LimitDefinition, RateLimitDecision } from './types.js';

// State: a = start of the window counted (epoch ms), b = its count.
function evaluate(state: StateRecords, at: number, limit: LimitDefinition, nowMs: number, cost: number, commit: boolean): RateLimitDecision {
  const window = limit.windowMs;
  // Not `nowMs % window`: on doubles that is a call to fmod, several times slower than this.
  const start = Math.floor(nowMs / window) * window;
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
  redisKeys: 1,
  luaName: 'fixed',
  evaluate,
  lua: `
local function fixed_check(keys, k, now_us, limit, window, burst, emission, cost)
  local now = floor(now_us / 1000)
  local index = floor(now / window)
  local start = index * window
  local until_end = start + window - now
  local tag = index % WINDOW_TAGS
  local stored = tonumber(redis.call('GET', keys[k]))
  local count, same = 0, 0
  if stored and floor(stored / COUNT_SPAN) == tag then
    count = stored % COUNT_SPAN
    same = 1
  end
  if count + cost <= limit then
    local reset = 0
    if count + cost > 0 then reset = until_end end
    return 1, limit - count - cost, reset, 0, tag, same
  end
  return 0, math.max(0, limit - count), until_end, until_end, tag, same
end
local function fixed_write(keys, k, now_us, window, cost, reset, tag, same)
  if same == 1 then
    redis.call('INCRBY', keys[k], cost)
  else
    -- A new window: its count starts here (the key outlives the window; see MIN_TTL).
    redis.call('SET', keys[k], string.format('%d', tag * COUNT_SPAN + cost), 'PX', math.max(reset + window, MIN_TTL))
  end
end
`,
};
