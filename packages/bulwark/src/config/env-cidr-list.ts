import { parseCidrList } from '../http/ip-address.js';
import { envSchema } from './env-schema.js';
import type { EnvSchema } from './env-schema.js';

export interface EnvCidrListOptions {
  /** Value when the variable is unset, e.g. `['loopback']`. @default none: required */
  readonly default?: readonly string[];
}

const EXPECTS = 'a comma-separated list of IP addresses, CIDR ranges (10.0.0.0/8, 2001:db8::/32) or presets (loopback, private, linklocal)';

/**
 * A comma-separated list of IPv4/IPv6 addresses, CIDR ranges and the presets `loopback`,
 * `private`, `linklocal`, validated with the same strict parser as the client-IP resolver
 * (`parseCidrList` from `bulwark/http`, built on ipaddr.js): legacy forms such as `127.1` or
 * `0x7f.0.0.1` are refused. Spaces around commas are allowed; empty entries are not. The result is
 * the list of entries, ready for `parseCidrList`.
 *
 * @example
 * const schema = z.object({ METRICS_ALLOWED_IPS: envCidrList().optional() });
 * // METRICS_ALLOWED_IPS="loopback, 10.0.0.0/8" → ['loopback', '10.0.0.0/8']
 */
export function envCidrList(options: EnvCidrListOptions = {}): EnvSchema<readonly string[]> {
  if (options.default !== undefined) parseCidrList(options.default, 'envCidrList: default');
  return envSchema({
    expects: EXPECTS,
    fix: 'Set it to a comma-separated list such as 127.0.0.1,::1 or loopback,10.0.0.0/8.',
    default: options.default === undefined ? undefined : { value: Object.freeze([...options.default]), text: options.default.join(',') },
    parse(raw) {
      const entries = raw.split(',').map((entry) => entry.trim());
      for (const [index, entry] of entries.entries()) {
        if (entry.length === 0) return { ok: false, problem: `has an empty entry (entry ${index + 1}): remove the extra comma` };
        try {
          parseCidrList([entry]);
        } catch {
          // The entry is not quoted: the rule is to never echo values, and the position is enough.
          return { ok: false, problem: `entry ${index + 1} is not an IP address, a CIDR range or a preset` };
        }
      }
      return { ok: true, value: Object.freeze(entries) };
    },
  });
}
