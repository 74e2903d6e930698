/**
 * The Lua scripts the Redis store runs: one per algorithm (one limit per call, the common case,
 * kept lean), one for several limits decided together (any mix of algorithms), and the two lease
 * scripts. Each algorithm's check/write pair is defined once (in its own file) and composed here,
 * so the per-algorithm scripts and the multi-limit one cannot disagree.
 *
 * Every key a script touches is passed in KEYS, and all keys of one call share a hash tag, so the
 * scripts run unchanged on Redis Cluster. Time comes from Redis `TIME` unless the caller passes it
 * (for managed services that forbid `TIME` in scripts).
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

/** ARGV values per limit after ARGV[1] (the time): code, limit, window, burst, emission, cost, blocking. */
export const ARGS_PER_LIMIT = 7;
/** Integers returned per limit: allowed, remaining, reset ms, retry ms. */
export const RESULTS_PER_LIMIT = 4;

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
 * One limit of one algorithm: no loop and no table but the reply, since this runs for most
 * decisions. (An array reply of integers costs Redis less than formatting numbers into a string.)
 */
function single(algorithm: CounterAlgorithm): string {
  const name = algorithm.luaName;
  return `${LUA_INTEGER_MATH}${algorithm.lua}${NOW}
local cost, window = tonumber(ARGV[7]), tonumber(ARGV[4])
local allowed, remaining, reset, retry, s1, s2, s3 = ${name}_check(KEYS, 1, now, tonumber(ARGV[3]), window, tonumber(ARGV[5]), tonumber(ARGV[6]), cost)
if allowed == 1 and cost > 0 then ${name}_write(KEYS, 1, now, window, cost, reset, s1, s2, s3) end
return { allowed, remaining, reset, retry }
`;
}

/** Several limits (of any of `algorithms`) on one identity: all are checked, then all or none written. */
function multi(algorithms: readonly CounterAlgorithm[]): string {
  const table = (suffix: string): string => algorithms.map((algorithm) => `${algorithm.code} = ${algorithm.luaName}_${suffix}`).join(', ');
  return `${LUA_INTEGER_MATH}
${algorithms.map((algorithm) => algorithm.lua).join('\n')}
local CHECK = { ${table('check')} }
local WRITE = { ${table('write')} }
local KEY_COUNT = { ${algorithms.map((algorithm) => `${algorithm.code} = ${algorithm.redisKeys}`).join(', ')} }${NOW}
local limits = (#ARGV - 1) / ${ARGS_PER_LIMIT}
local state, out, commit, k = {}, {}, true, 1
for i = 1, limits do
  local b = 2 + (i - 1) * ${ARGS_PER_LIMIT}
  local code = ARGV[b]
  local allowed, remaining, reset, retry, s1, s2, s3 = CHECK[code](KEYS, k, now, tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5]))
  if allowed == 0 and ARGV[b + 6] == '1' then commit = false end
  local r = (i - 1) * ${RESULTS_PER_LIMIT}
  out[r + 1], out[r + 2], out[r + 3], out[r + 4] = allowed, remaining, reset, retry
  local o = (i - 1) * 6
  state[o + 1], state[o + 2], state[o + 3], state[o + 4], state[o + 5], state[o + 6] = allowed, reset, s1, s2, s3, k
  k = k + KEY_COUNT[code]
end
if commit then
  for i = 1, limits do
    local b = 2 + (i - 1) * ${ARGS_PER_LIMIT}
    local o = (i - 1) * 6
    local cost = tonumber(ARGV[b + 5])
    if state[o + 1] == 1 and cost > 0 then
      WRITE[ARGV[b]](KEYS, state[o + 6], now, tonumber(ARGV[b + 2]), cost, state[o + 2], state[o + 3], state[o + 4], state[o + 5])
    end
  end
end
return out
`;
}

let scripts: { byAlgorithm: Record<RateLimitAlgorithm, LuaScript>; multi: LuaScript; acquire: LuaScript; release: LuaScript } | undefined;

/** The scripts, built on first use. */
export function luaScripts(): NonNullable<typeof scripts> {
  scripts ??= {
    byAlgorithm: {
      gcra: new LuaScript('gcra', single(gcra)),
      'sliding-window': new LuaScript('sliding-window', single(slidingWindow)),
      'fixed-window': new LuaScript('fixed-window', single(fixedWindow)),
    },
    multi: new LuaScript('multi', multi([gcra, slidingWindow, fixedWindow])),
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
