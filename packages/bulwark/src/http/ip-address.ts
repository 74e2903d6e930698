/**
 * IP address parsing, normalisation and CIDR matching, shared by the client-IP resolver, the
 * rate-limit keys and the `/metrics` allow-list.
 *
 * Validation is strict on purpose: `net.isIP` (inet_pton) accepts only dotted-quad IPv4 and real
 * IPv6, so the legacy forms `127.1`, `0x7f.0.0.1` or `017.0.0.1` that `ipaddr.parse` would happily
 * expand are refused. They never come from a real proxy and only serve to confuse allow-lists.
 * ipaddr.js does the arithmetic (prefix matching, canonical RFC 5952 formatting).
 */
import { isIP } from 'node:net';
import { ipaddr } from './ipaddr.js';
import type { IPv4, IPv6 } from './ipaddr.js';

/** A parsed address after IPv4-mapped IPv6 addresses were turned into IPv4. */
export type IpAddress = IPv4 | IPv6;

/** Named ranges accepted wherever a CIDR list is: `loopback`, `private` (RFC 1918 + fc00::/7), `linklocal`. */
export type CidrPreset = 'loopback' | 'private' | 'linklocal';

/** A list of CIDR ranges parsed once by {@link parseCidrList}; match with {@link ipInCidrs}. */
export interface ParsedCidrList {
  /** The entries as given (presets included), for logs and error messages. */
  readonly source: readonly string[];
  readonly v4: readonly (readonly [IPv4, number])[];
  readonly v6: readonly (readonly [IPv6, number])[];
}

const PRESETS: Readonly<Record<CidrPreset, readonly string[]>> = Object.freeze({
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
});

/** Whether `name` is one of the named CIDR presets. */
export function isCidrPreset(name: string): name is CidrPreset {
  return Object.prototype.hasOwnProperty.call(PRESETS, name);
}

/**
 * Parses one address strictly and normalises it: surrounding whitespace is NOT tolerated, a zone id
 * (`fe80::1%eth0`) is dropped, and IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4. Returns
 * `undefined` for anything that is not an IP address. Never throws.
 */
export function parseIp(value: string): IpAddress | undefined {
  if (value.length === 0 || value.length > 64) return undefined;
  const percent = value.indexOf('%');
  const bare = percent === -1 ? value : value.slice(0, percent);
  const version = isIP(bare);
  if (version === 4) return ipaddr.IPv4.parse(bare);
  if (version !== 6) return undefined;
  const v6 = ipaddr.IPv6.parse(bare);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/** The canonical text of an address: dotted quad for IPv4, RFC 5952 (lower-case, compressed) for IPv6. */
export function formatIp(address: IpAddress): string {
  return address.kind() === 'ipv4' ? address.toString() : (address as IPv6).toRFC5952String();
}

/**
 * The canonical form of an address string (see {@link parseIp} and {@link formatIp}), or
 * `undefined` when it is not an IP address.
 *
 * @example
 * normalizeIp('::ffff:10.0.0.1'); // '10.0.0.1'
 * normalizeIp('2001:DB8:0::1');   // '2001:db8::1'
 */
export function normalizeIp(value: string): string | undefined {
  const address = parseIp(value);
  return address === undefined ? undefined : formatIp(address);
}

/**
 * Parses a list of IPs, CIDR ranges and presets (`loopback`, `private`, `linklocal`) once, for
 * {@link ipInCidrs}. A bare address is a single-host range (/32 or /128). Host bits below the prefix
 * are allowed (`192.168.1.7/24` means 192.168.1.0/24), as in most proxy configurations. An
 * IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) is stored as the IPv4 range it denotes, because
 * addresses are matched after IPv4-mapped addresses were normalised to IPv4.
 *
 * @throws TypeError naming the first entry that is none of these.
 * @example
 * const allowed = parseCidrList(['loopback', '10.0.0.0/8', '2001:db8::/32']);
 * ipInCidrs('10.1.2.3', allowed); // true
 */
export function parseCidrList(list: readonly string[], optionName = 'cidrs'): ParsedCidrList {
  if (!Array.isArray(list)) throw new TypeError(`${optionName} must be an array of IP addresses, CIDR ranges or presets (loopback, private, linklocal)`);
  const v4: [IPv4, number][] = [];
  const v6: [IPv6, number][] = [];
  const add = (entry: string, label: string): void => {
    const slash = entry.indexOf('/');
    const addressPart = slash === -1 ? entry : entry.slice(0, slash);
    const prefixPart = slash === -1 ? undefined : entry.slice(slash + 1);
    const version = isIP(addressPart);
    const maxBits = version === 4 ? 32 : 128;
    const bits = prefixPart === undefined ? maxBits : /^(0|[1-9]\d{0,2})$/.test(prefixPart) ? Number(prefixPart) : Number.NaN;
    if (version === 0 || !(bits >= 0 && bits <= maxBits)) {
      throw new TypeError(`${optionName}: ${JSON.stringify(label)} is not an IP address, a CIDR range or one of the presets loopback, private, linklocal`);
    }
    if (version === 4) {
      v4.push([ipaddr.IPv4.parse(addressPart), bits]);
      return;
    }
    const address = ipaddr.IPv6.parse(addressPart);
    if (address.isIPv4MappedAddress() && bits >= 96) v4.push([address.toIPv4Address(), bits - 96]);
    else v6.push([address, bits]);
  };
  for (const raw of list) {
    if (typeof raw !== 'string') throw new TypeError(`${optionName}: every entry must be a string, got ${typeof raw}`);
    const entry = raw.trim();
    if (isCidrPreset(entry)) for (const range of PRESETS[entry]) add(range, entry);
    else add(entry, raw);
  }
  return Object.freeze({ source: Object.freeze([...list]), v4: Object.freeze(v4), v6: Object.freeze(v6) });
}

/**
 * Whether `ip` (a string or a parsed address) lies in one of the ranges. Invalid addresses are in
 * no range. IPv4-mapped IPv6 addresses match IPv4 ranges.
 */
export function ipInCidrs(ip: string | IpAddress, cidrs: ParsedCidrList): boolean {
  const address = typeof ip === 'string' ? parseIp(ip) : ip;
  if (address === undefined) return false;
  if (address.kind() === 'ipv4') {
    const v4 = address as IPv4;
    for (const range of cidrs.v4) if (v4.match(range[0], range[1])) return true;
    return false;
  }
  const v6 = address as IPv6;
  for (const range of cidrs.v6) if (v6.match(range[0], range[1])) return true;
  return false;
}

const LOOPBACK = parseCidrList(['loopback']);

/** Whether `ip` is a loopback address (127.0.0.0/8, ::1, or ::ffff:127.x.y.z). False for non-addresses. */
export function isLoopback(ip: string): boolean {
  return ipInCidrs(ip, LOOPBACK);
}
