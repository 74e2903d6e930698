/**
 * The Lua scripts the Redis store runs: one per algorithm, one for multi-limit decisions that mix
 * algorithms, and the two lease scripts. Each algorithm's check/write pair is defined once (in its
 * own file) and composed here with one driver, so the scripts cannot disagree. Every decision
 * script evaluates a batch of decisions (see {@link decisionScript}).
 *
 * Every key a script touches is passed in KEYS, the keys of one decision share a hash tag (the
 * identity), and on Redis Cluster a call only carries decisions of one slot, so the scripts run
 * unchanged there. Time comes from Redis `TIME` unless the caller passes it (for managed services
 * that forbid `TIME` in scripts).
 */
import { createHash } from 'node:crypto';
import type { CounterAlgorithm } from './algorithm.js';
import { CONCURRENCY_ACQUIRE_LUA, CONCURRENCY_RELEASE_LUA } from './concurrency.js';
import { fixedWindow } from './fixed-window.js';
import { gcra } from './gcra.js';
import { LUA_INTEGER_MATH } from './integer-math.js';
import { slidingWindow } from './sliding-window.js';
import type { RateLimitAlgorithm } from './types.js';

/** A script with its SHA1, computed once on first use (nothing runs at import time). */
export class LuaScript {
  private digest: string | undefined;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {}

  get sha(): string {
    this.digest ??= createHash('sha1').update(this.source).digest('hex');
    return this.digest;
  }
}

/** Integers returned per limit: allowed, remaining, reset ms, retry ms. */
export const RESULTS_PER_LIMIT = 4;
/** A decision refers to its limit as `position × LIMIT_REFERENCE + cost` (costs stay below 2^27). */
export const LIMIT_REFERENCE = 134_217_728;

/** ARGV[1] is the time in µs, or '' for Redis TIME (every instance then agrees on the clock). */
const NOW = `
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
`;

/**
 * The decision script: evaluates every decision of a batch, in order (see the runner's batch
 * format: the time, the distinct limits, then one reference `position × 2^27 + cost` per
 * single-limit decision, or `-n` and n references for n limits decided all or nothing). KEYS holds
 * each limit's keys in decision order. A decision of one limit is checked and written at once (the
 * common case, kept free of tables); one of several limits is checked whole, then written only if
 * every blocking limit allowed. The reply is four integers per limit.
 */
function decisionScript(algorithms: readonly CounterAlgorithm[]): string {
  const table = (suffix: string): string => algorithms.map((algorithm) => `${algorithm.code} = ${algorithm.luaName}_${suffix}`).join(', ');
  return `${LUA_INTEGER_MATH}
${algorithms.map((algorithm) => algorithm.lua).join('\n')}
local CHECK = { ${table('check')} }
local WRITE = { ${table('write')} }
local KEY_COUNT = { ${algorithms.map((algorithm) => `${algorithm.code} = ${algorithm.redisKeys}`).join(', ')} }${NOW}
local REFERENCE = ${LIMIT_REFERENCE}
-- The distinct limits: code, limit, window, burst, emission, blocking.
local code, limit, window, burst, emission, blocking = {}, {}, {}, {}, {}, {}
local count = tonumber(ARGV[2])
for d = 0, count - 1 do
  local b = 3 + d * 6
  code[d], limit[d], window[d], burst[d], emission[d], blocking[d] = ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), ARGV[b + 5] == '1'
end
local out, n, k, a, argc = {}, 0, 1, 3 + count * 6, #ARGV
while a <= argc do
  local v = tonumber(ARGV[a])
  a = a + 1
  if v >= 0 then
    local d = floor(v / REFERENCE)
    local cost, c = v - d * REFERENCE, code[d]
    local allowed, remaining, reset, retry, s1, s2, s3 = CHECK[c](KEYS, k, now, limit[d], window[d], burst[d], emission[d], cost)
    if allowed == 1 and cost > 0 then WRITE[c](KEYS, k, now, window[d], cost, reset, s1, s2, s3) end
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = allowed, remaining, reset, retry
    n, k = n + 4, k + KEY_COUNT[c]
  else
    local state, commit = {}, true
    for i = 1, -v do
      local r = tonumber(ARGV[a])
      local d = floor(r / REFERENCE)
      local cost, c = r - d * REFERENCE, code[d]
      local allowed, remaining, reset, retry, s1, s2, s3 = CHECK[c](KEYS, k, now, limit[d], window[d], burst[d], emission[d], cost)
      if allowed == 0 and blocking[d] then commit = false end
      out[n + 1], out[n + 2], out[n + 3], out[n + 4] = allowed, remaining, reset, retry
      local o = (i - 1) * 8
      state[o + 1], state[o + 2], state[o + 3], state[o + 4], state[o + 5], state[o + 6], state[o + 7], state[o + 8] = allowed, reset, s1, s2, s3, k, d, cost
      n, k, a = n + 4, k + KEY_COUNT[c], a + 1
    end
    if commit then
      for i = 1, -v do
        local o = (i - 1) * 8
        local d, cost = state[o + 7], state[o + 8]
        if state[o + 1] == 1 and cost > 0 then
          WRITE[code[d]](KEYS, state[o + 6], now, window[d], cost, state[o + 2], state[o + 3], state[o + 4], state[o + 5])
        end
      end
    end
  end
end
return out
`;
}

let scripts: { byAlgorithm: Record<RateLimitAlgorithm, LuaScript>; mixed: LuaScript; acquire: LuaScript; release: LuaScript } | undefined;

/** The scripts, built on first use. */
export function luaScripts(): NonNullable<typeof scripts> {
  scripts ??= {
    byAlgorithm: {
      gcra: new LuaScript('gcra', decisionScript([gcra])),
      'sliding-window': new LuaScript('sliding-window', decisionScript([slidingWindow])),
      'fixed-window': new LuaScript('fixed-window', decisionScript([fixedWindow])),
    },
    mixed: new LuaScript('mixed', decisionScript([gcra, slidingWindow, fixedWindow])),
    acquire: new LuaScript('lease-acquire', CONCURRENCY_ACQUIRE_LUA),
    release: new LuaScript('lease-release', CONCURRENCY_RELEASE_LUA),
  };
  return scripts;
}

/** The algorithm object of a counter algorithm name. */
export const COUNTER_ALGORITHMS: Readonly<Record<RateLimitAlgorithm, CounterAlgorithm>> = Object.freeze({
  gcra,
  'sliding-window': slidingWindow,
  'fixed-window': fixedWindow,
});
