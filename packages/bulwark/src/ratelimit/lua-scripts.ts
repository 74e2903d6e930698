/**
 * The Lua scripts the Redis store runs: one per algorithm (a limit, or several limits of that
 * algorithm, in one call), one for limits of mixed algorithms, and the two lease scripts. Each
 * algorithm's check/write pair is defined once (in its own file) and composed here with the same
 * driver, so the per-algorithm scripts and the mixed one cannot disagree.
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

function driver(algorithms: readonly CounterAlgorithm[]): string {
  const table = (suffix: string): string => algorithms.map((algorithm) => `${algorithm.code} = ${algorithm.luaName}_${suffix}`).join(', ');
  return `${LUA_INTEGER_MATH}
${algorithms.map((algorithm) => algorithm.lua).join('\n')}
local CHECK = { ${table('check')} }
local WRITE = { ${table('write')} }
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local results, out, commit = {}, {}, true
for i = 1, #KEYS do
  local b = 2 + (i - 1) * ${ARGS_PER_LIMIT}
  local r = CHECK[ARGV[b]](KEYS[i], now, tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5]))
  results[i] = r
  if r[1] == 0 and ARGV[b + 6] == '1' then commit = false end
  local o = (i - 1) * ${RESULTS_PER_LIMIT}
  out[o + 1], out[o + 2], out[o + 3], out[o + 4] = r[1], r[2], r[3], r[4]
end
if commit then
  for i = 1, #KEYS do
    local b = 2 + (i - 1) * ${ARGS_PER_LIMIT}
    if results[i][1] == 1 and tonumber(ARGV[b + 5]) > 0 then
      WRITE[ARGV[b]](KEYS[i], now, tonumber(ARGV[b + 2]), results[i])
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
      gcra: new LuaScript('gcra', driver([gcra])),
      'sliding-window': new LuaScript('sliding-window', driver([slidingWindow])),
      'fixed-window': new LuaScript('fixed-window', driver([fixedWindow])),
    },
    mixed: new LuaScript('mixed', driver([gcra, slidingWindow, fixedWindow])),
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
