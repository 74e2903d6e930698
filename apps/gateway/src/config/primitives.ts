import { z } from 'zod';
import { DURATION_PATTERN_SOURCE, SIZE_PATTERN_SOURCE, parseDurationMs, parseSize } from './units.js';

/**
 * Schema building blocks shared by every section. Values that `${VAR}` interpolation fills arrive
 * as strings, so numbers and booleans also accept their string spelling (`"8080"`, `"true"`).
 */

/** An integer in `[min, max]`, written as a number or a string of digits. */
export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): z.ZodType<number, number | string> {
  return z
    .union([z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`), z.string().regex(/^-?\d+$/, 'expected an integer').transform(Number)])
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** A boolean, written as `true`/`false` or the strings `"true"`/`"false"`. */
export function flag(): z.ZodType<boolean, boolean | string> {
  return z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);
}

/** A size in bytes: a positive integer or `<n>b|kb|mb|gb` (binary multiples), e.g. `50kb`. */
export function size(): z.ZodType<number, number | string> {
  return z
    .union([z.number().int().positive(), z.string().regex(new RegExp(SIZE_PATTERN_SOURCE, 'i'), 'expected a size such as 50kb or 10mb')])
    .transform((value, context) => {
      const bytes = parseSize(value);
      if (bytes === undefined) {
        context.addIssue({ code: 'custom', message: 'expected a positive size such as 50kb or 10mb' });
        return z.NEVER;
      }
      return bytes;
    });
}

/** A duration in milliseconds: `<n>ms|s|m|h|d` (e.g. `15m`) or a number of seconds. */
export function duration(): z.ZodType<number, number | string> {
  return z
    .union([z.number().positive(), z.string().regex(new RegExp(DURATION_PATTERN_SOURCE, 'i'), 'expected a duration such as 30s, 15m or 1h')])
    .transform((value, context) => {
      const ms = parseDurationMs(value);
      if (ms === undefined) {
        context.addIssue({ code: 'custom', message: 'expected a positive duration such as 30s, 15m or 1h' });
        return z.NEVER;
      }
      return ms;
    });
}

/** A URL path: starts with `/`, no query, no fragment, no dot segments, no backslash. */
export function urlPath(): z.ZodString {
  return z
    .string()
    .regex(/^\/[^?#\\\s]*$/, 'expected a path starting with / (no query, fragment, backslash or spaces)')
    .refine((path) => !path.split('/').some((segment) => segment === '.' || segment === '..'), 'must not contain . or .. segments');
}

/** A name used as a metric label and in logs: short and plain. */
export function identifier(): z.ZodString {
  return z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected 1–64 letters, digits, _ . or - (starting with a letter or digit)');
}

/** An HTTP header name (RFC 9110 token), compared in lower case. */
export function headerName(): z.ZodType<string, string> {
  return z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, 'expected an HTTP header name')
    .transform((name) => name.toLowerCase());
}

/**
 * An IPv4/IPv6 address, a CIDR range, or a preset (`loopback`, `private`, `linklocal`); checked
 * precisely by bulwark/http when the config is resolved.
 */
export function ipOrCidr(): z.ZodString {
  return z.string().regex(/^(?:loopback|private|linklocal|[0-9A-Fa-f:.]+(?:\/\d{1,3})?)$/, 'expected an IP address, a CIDR range such as 10.0.0.0/8, or loopback | private | linklocal');
}

/** The HTTP methods a route can match. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** A method, upper or lower case in the file, upper case once parsed. */
export function httpMethod(): z.ZodType<HttpMethod, string> {
  const spellings = [...HTTP_METHODS, ...HTTP_METHODS.map((method) => method.toLowerCase())];
  return z
    .enum(spellings as [string, ...string[]], { message: `expected one of ${HTTP_METHODS.join(', ')}` })
    .transform((method) => method.toUpperCase() as HttpMethod);
}
