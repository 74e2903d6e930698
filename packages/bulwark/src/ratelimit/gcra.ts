/**
 * GCRA, the generic cell rate algorithm: a token bucket of `burst` tokens refilled at `limit` per
 * window, stored as one number, the theoretical arrival time (TAT) at which the bucket is full again.
 *
 * Time runs in whole microseconds and the emission interval T = window / limit is rounded up to a
 * whole microsecond, so the arithmetic is exact on doubles (no drift between instances, no
 * floating-point surprises at the boundary) and the rate can only come out slightly lower, never
 * higher, than configured. A request of cost n is allowed when max(TAT, now) + n·T − now ≤ τ with
 * the tolerance τ = burst · T.
 *
 * In Redis the key holds the TAT as a string of whole µs.
 *
 * @see https://en.wikipedia.org/wiki/Generic_cell_rate_algorithm
 */
import { decision, STATE_A, STATE_EXPIRES_AT, type CounterAlgorithm, type StateRecords } from './algorithm.js';
import { ceilDiv, floorDiv } from './integer-math.js';
import type { LimitDefinition, RateLimitDecision } from './types.js';

// State: a = the theoretical arrival time, µs.
function evaluate(state: StateRecords, at: number, limit: LimitDefinition, nowMs: number, cost: number, commit: boolean): RateLimitDecision {
  const now = nowMs * 1000;
  const emission = limit.emissionUs;
  const tolerance = emission * limit.burst;
  const stored = state[at + STATE_A] ?? 0;
  if (stored <= now && cost <= limit.burst) {
    // The bucket is full (the common case): the same decision as below, without its divisions —
    // max(TAT, now) − now is 0, so `remaining` is burst − cost exactly.
    const resetMs = cost === 1 ? limit.emissionCeilMs : ceilDiv(cost * emission, 1000);
    if (commit && cost > 0) {
      state[at + STATE_A] = now + cost * emission;
      state[at + STATE_EXPIRES_AT] = nowMs + resetMs;
    }
    return decision(true, limit.burst, limit.burst - cost, resetMs, 0, 'ok');
  }
  const tat = stored > now ? stored : now;
  const newTat = tat + cost * emission;
  if (newTat - now <= tolerance) {
    const resetMs = ceilDiv(newTat - now, 1000);
    if (commit && cost > 0) {
      state[at + STATE_A] = newTat;
      // `now` is a whole number of ms, so this is ⌈newTat / 1000⌉ without another division.
      state[at + STATE_EXPIRES_AT] = nowMs + resetMs;
    }
    return decision(true, limit.burst, floorDiv(tolerance - (newTat - now), emission), resetMs, 0, 'ok');
  }
  return decision(false, limit.burst, floorDiv(tolerance - (tat - now), emission), ceilDiv(tat - now, 1000), ceilDiv(newTat - tolerance - now, 1000), 'limited');
}

export const gcra: CounterAlgorithm = {
  code: 'g',
  redisKeys: 1,
  luaName: 'gcra',
  evaluate,
  lua: `
local function gcra_check(keys, k, now, limit, window, burst, emission, cost)
  local tolerance = emission * burst
  local tat = tonumber(redis.call('GET', keys[k])) or 0
  if tat < now then tat = now end
  local new_tat = tat + cost * emission
  if new_tat - now <= tolerance then
    return 1, floor((tolerance - (new_tat - now)) / emission), -floor((now - new_tat) / 1000), 0, new_tat
  end
  return 0, floor((tolerance - (tat - now)) / emission), -floor((now - tat) / 1000), -floor((now + tolerance - new_tat) / 1000), new_tat
end
local function gcra_write(keys, k, now, window, cost, reset, new_tat)
  local key = keys[k]
  -- Setting a TTL costs Redis about as much as the rest of the script: keep the key's TTL while it
  -- covers the new TAT, and when it must grow, give it a window more than needed.
  if redis.call('PTTL', key) >= reset then
    redis.call('SET', key, string.format('%d', new_tat), 'KEEPTTL')
  else
    redis.call('SET', key, string.format('%d', new_tat), 'PX', math.max(reset + window, MIN_TTL))
  end
end
`,
};
