/**
 * Integer division for the algorithms. `Math.floor(a / b)` rounds the quotient to a double before
 * flooring, but for integers with |a| + b < 2^53 the rounding can never reach the next integer
 * (the gap to it is at least 1/b, more than half an ulp there), so the plain expression is exact.
 * Option bounds keep every operand below 2^53 (time in µs, limit × window in ms). The Lua scripts
 * use the same expressions (`floor(a / b)`, `-floor(-a / b)`), so Redis and the memory store agree
 * to the unit; the property tests check it against exact BigInt arithmetic.
 */

/** ⌊a / b⌋ for integers a, b with b > 0 and |a| + b < 2^53. */
export function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** ⌈a / b⌉ for integers a, b with b > 0 and |a| + b < 2^53. */
export function ceilDiv(a: number, b: number): number {
  return -Math.floor(-a / b);
}

/**
 * What every script starts with: `floor` as a local (a global lookup per use costs); the encoding
 * of window counters: a count (below 2^30; limits are at most 10^8) and its window's number modulo
 * 2^20 in one integer, below 2^50, exact in a Lua double and in Redis' INCRBY; and the shortest TTL
 * given to a key. State is recognised by its window number or TAT, never by its TTL, which only
 * cleans up: a TTL of a window more than needed, and at least 10 s, means Redis' clock and the
 * callers' (with `clock: 'client'`) may drift apart without a count vanishing early.
 */
export const LUA_INTEGER_MATH = `
local floor = math.floor
local COUNT_SPAN, WINDOW_TAGS, MIN_TTL = 1073741824, 1048576, 10000
`;
