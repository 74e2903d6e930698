/**
 * Binding a session to the client's address. `exact` suits desktops and offices; mobile clients move
 * between addresses of their carrier's network all the time, so a prefix (`/24` and `/48`, say)
 * keeps them logged in while still refusing a cookie replayed from elsewhere.
 */
import { ipPrefixKey } from '../http/ip-key.js';
import { describe } from './validate.js';

/** `'off'`, `'exact'`, or the network prefix lengths that count as "the same place". */
export type IpBinding = 'off' | 'exact' | { readonly ipv4PrefixBits: number; readonly ipv6PrefixBits: number };

export interface ResolvedIpBinding {
  /** A short, stable name of the mode, stored with each session (`off`, `exact`, `p24/48`). */
  readonly mode: string;
  /** What the session is bound to for a client address: the address or its network; `undefined` when off. */
  key(ip: string | undefined): string | undefined;
}

/** The key of a client whose address is unknown: it only ever matches another unknown address. */
const UNKNOWN = 'unknown';
const MAX_KEY_LENGTH = 256;

export function resolveIpBinding(factory: string, binding: IpBinding | undefined): ResolvedIpBinding {
  if (binding === undefined || binding === 'exact') return prefixBinding('exact', 32, 128);
  if (binding === 'off') return { mode: 'off', key: () => undefined };
  if (typeof binding === 'object' && binding !== null) {
    const v4 = binding.ipv4PrefixBits;
    const v6 = binding.ipv6PrefixBits;
    if (!Number.isInteger(v4) || v4 < 8 || v4 > 32) throw new TypeError(`${factory}: ipBinding.ipv4PrefixBits must be an integer between 8 and 32, got ${describe(v4)}`);
    if (!Number.isInteger(v6) || v6 < 16 || v6 > 128) throw new TypeError(`${factory}: ipBinding.ipv6PrefixBits must be an integer between 16 and 128, got ${describe(v6)}`);
    return prefixBinding(v4 === 32 && v6 === 128 ? 'exact' : `p${v4}/${v6}`, v4, v6);
  }
  throw new TypeError(`${factory}: ipBinding must be 'off', 'exact' or { ipv4PrefixBits, ipv6PrefixBits }, got ${describe(binding)}`);
}

function prefixBinding(mode: string, v4Bits: number, v6Bits: number): ResolvedIpBinding {
  return {
    mode,
    key(ip) {
      if (typeof ip !== 'string' || ip === '') return UNKNOWN;
      return ipPrefixKey(ip, v4Bits, v6Bits).slice(0, MAX_KEY_LENGTH);
    },
  };
}
