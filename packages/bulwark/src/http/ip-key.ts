/**
 * Rate-limit keys for client addresses. An IPv4 address is one subscriber, but an IPv6 subscriber
 * is routinely given a whole /56 (or /48) and can pick a fresh address for every request; keying a
 * per-IP limit on the full IPv6 address would let one customer multiply the limit by 2^72. Keys
 * therefore group IPv6 addresses by prefix.
 */
import { ipaddr } from './ipaddr.js';
import type { IPv4, IPv6 } from './ipaddr.js';
import { formatIp, parseIp } from './ip-address.js';

/** The IPv6 prefix length {@link ipRateLimitKey} groups by: the usual end-site assignment (RIPE-690). */
export const DEFAULT_IPV6_KEY_PREFIX_BITS = 56;

/**
 * The key of `ip` at the given prefix lengths: the network address and `/bits`, or the plain address
 * when the prefix is the full length. IPv4-mapped IPv6 counts as IPv4. A string that is not an IP
 * address (`unknown`, a Unix socket path) is returned unchanged.
 *
 * @param v4Bits IPv4 prefix length, 0…32. @default 32
 * @param v6Bits IPv6 prefix length, 0…128. @default 56
 * @throws TypeError when a prefix length is out of range (a programming error).
 * @example
 * ipPrefixKey('203.0.113.77', 24, 64);           // '203.0.113.0/24'
 * ipPrefixKey('2001:db8:ab:cd12:1::7', 24, 64); // '2001:db8:ab:cd12::/64'
 */
export function ipPrefixKey(ip: string, v4Bits = 32, v6Bits = DEFAULT_IPV6_KEY_PREFIX_BITS): string {
  checkBits('v4Bits', v4Bits, 32);
  checkBits('v6Bits', v6Bits, 128);
  const address = parseIp(ip);
  if (address === undefined) return ip;
  if (address.kind() === 'ipv4') {
    if (v4Bits === 32) return formatIp(address);
    const octets = maskWords((address as IPv4).octets, 8, v4Bits);
    return `${new ipaddr.IPv4(octets).toString()}/${v4Bits}`;
  }
  if (v6Bits === 128) return formatIp(address);
  const parts = maskWords((address as IPv6).parts, 16, v6Bits);
  return `${new ipaddr.IPv6(parts).toRFC5952String()}/${v6Bits}`;
}

/**
 * The per-client rate-limit key: an IPv4 address as it is, an IPv6 address grouped to its /56, so
 * that one customer's /56 cannot dodge a per-IP limit by rotating addresses.
 *
 * @example
 * ipRateLimitKey('198.51.100.7');             // '198.51.100.7'
 * ipRateLimitKey('2001:db8:ab:cd12::1');      // '2001:db8:ab:cd00::/56'
 * ipRateLimitKey('::ffff:198.51.100.7');      // '198.51.100.7'
 */
export function ipRateLimitKey(ip: string): string {
  return ipPrefixKey(ip, 32, DEFAULT_IPV6_KEY_PREFIX_BITS);
}

function checkBits(name: string, bits: number, max: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new TypeError(`${name} must be an integer between 0 and ${max}, got ${String(bits)}`);
}

/** Keeps the first `bits` bits of a big-endian list of `wordBits`-bit words, zeroing the rest. */
function maskWords(words: readonly number[], wordBits: number, bits: number): number[] {
  return words.map((word, index) => {
    const keep = bits - index * wordBits;
    if (keep >= wordBits) return word;
    if (keep <= 0) return 0;
    const mask = ((1 << keep) - 1) << (wordBits - keep);
    return word & mask;
  });
}
