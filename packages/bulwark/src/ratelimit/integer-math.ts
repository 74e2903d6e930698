/**
 * Exact integer division for the algorithms. `Math.floor(a / b)` rounds the quotient to a double
 * first, so for large operands just below a multiple of `b` it can come out one too high; these
 * correct that. Operands stay below 2^53 (option bounds guarantee it), so the products are exact.
 * The Lua scripts use the same two functions (see {@link LUA_INTEGER_MATH}) so that Redis and the
 * memory store agree to the unit.
 */

/** ⌊a / b⌋ for integers a, b with b > 0. */
export function floorDiv(a: number, b: number): number {
  let quotient = Math.floor(a / b);
  if (quotient * b > a) quotient -= 1;
  else if ((quotient + 1) * b <= a) quotient += 1;
  return quotient;
}

/** ⌈a / b⌉ for integers a, b with b > 0. */
export function ceilDiv(a: number, b: number): number {
  return -floorDiv(-a, b);
}

/** The Lua twins of {@link floorDiv} and {@link ceilDiv}. */
export const LUA_INTEGER_MATH = `
local function floor_div(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end
local function ceil_div(a, b)
  return -floor_div(-a, b)
end
`;
