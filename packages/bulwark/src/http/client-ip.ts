/**
 * The client's IP address behind reverse proxies, taken from `X-Forwarded-For` only as far as the
 * chain of proxies can be trusted.
 *
 * Every hop appends the address it received the request from, so the list is only trustworthy from
 * the right: the directly connected peer is checked first, and each entry to its left is believed
 * only because a trusted proxy wrote it. Anything a client puts into the header itself sits to the
 * left of the first untrusted hop and is never read. (Express's `trust proxy` and proxy-addr work
 * the same way; this version is strict about what counts as an address and never returns garbage.)
 */
import { formatIp, ipInCidrs, parseCidrList, parseIp } from './ip-address.js';
import type { CidrPreset, IpAddress, ParsedCidrList } from './ip-address.js';

/** Returned when the socket has no remote address (it closed before the request was handled). */
export const UNKNOWN_CLIENT_IP = 'unknown';

export interface ClientIpResolverOptions {
  /**
   * Proxies whose `X-Forwarded-For` entries are believed: IP addresses, CIDR ranges or the presets
   * `loopback`, `private` (RFC 1918 and fc00::/7) and `linklocal`. Empty: no proxy is trusted and
   * the client is always the directly connected peer (unless `hops` is set: then every hop within
   * the count is trusted).
   * @default []
   */
  readonly trustedProxies?: readonly (string | CidrPreset)[];
  /**
   * The number of proxies in front of the application (the directly connected one included), for
   * platforms whose proxy addresses are not known in advance. With `hops: 1` the client is the
   * right-most `X-Forwarded-For` entry. When `trustedProxies` is also given, a hop is walked past
   * only when it is within the count AND trusted.
   * @default undefined (the walk is bounded by `trustedProxies` only)
   */
  readonly hops?: number;
}

/** Resolves the client address of one request; returns a canonical IP string. */
export type ClientIpResolver = (remoteAddress: string | undefined, forwardedFor: string | string[] | undefined) => string;

/** The hard cap on hops walked: no real deployment has more, and it bounds the work per request. */
const MAX_HOPS = 32;

/**
 * Creates a resolver for the client address of a request from the socket's remote address and the
 * `X-Forwarded-For` header.
 *
 * The walk starts at the directly connected peer. While the current hop is a trusted proxy (and
 * within `hops`), the next entry from the right of `X-Forwarded-For` becomes the current hop. It
 * stops at the first untrusted hop, which is the client; at the first entry that is not an IP
 * address (the last valid hop is returned, never the garbage); or when the header runs out.
 *
 * Accepted entries: dotted-quad IPv4, IPv6, either with a port (`1.2.3.4:5678`, `[2001:db8::1]:443`,
 * as some load balancers write them). IPv4-mapped IPv6 becomes IPv4, IPv6 is returned in RFC 5952
 * form, so one client always yields the same string (rate-limit keys depend on it).
 *
 * @throws TypeError when `trustedProxies` holds an entry that is not an IP, CIDR or preset, or `hops`
 *   is not an integer in 0…32.
 * @example
 * const clientIp = createClientIpResolver({ trustedProxies: ['loopback', '10.0.0.0/8'] });
 * clientIp('10.0.0.5', '203.0.113.9, 10.0.0.7'); // '203.0.113.9'
 * clientIp('198.51.100.1', '203.0.113.9');        // '198.51.100.1' (peer not trusted: header ignored)
 */
export function createClientIpResolver(options: ClientIpResolverOptions = {}): ClientIpResolver {
  const proxies = options.trustedProxies;
  if (proxies !== undefined && !Array.isArray(proxies)) throw new TypeError('trustedProxies must be an array of IP addresses, CIDR ranges or presets');
  // An empty list means "not given", so that a config file's `trustedProxies: []` plus `hops` works.
  const trusted: ParsedCidrList | undefined = proxies === undefined || proxies.length === 0 ? undefined : parseCidrList(proxies, 'trustedProxies');
  const hops = options.hops;
  if (hops !== undefined && !(Number.isInteger(hops) && hops >= 0 && hops <= MAX_HOPS)) {
    throw new TypeError(`hops must be an integer between 0 and ${MAX_HOPS}, got ${String(hops)}`);
  }
  // Without a hop count only trusted proxies are walked past; without a proxy list, exactly `hops`.
  const maxHops = hops ?? MAX_HOPS;
  const trustAll = trusted === undefined && hops !== undefined;
  const isTrusted = (address: IpAddress): boolean => trustAll || (trusted !== undefined && ipInCidrs(address, trusted));

  return function resolveClientIp(remoteAddress, forwardedFor) {
    if (remoteAddress === undefined || remoteAddress === '') return UNKNOWN_CLIENT_IP;
    let current = parseIp(remoteAddress);
    // A non-IP peer (a Unix socket path, say) cannot be matched against proxies: it is the client.
    if (current === undefined) return remoteAddress;
    if (forwardedFor === undefined || maxHops === 0) return formatIp(current);
    const entries = new ForwardedForReader(forwardedFor);
    for (let walked = 0; walked < maxHops && isTrusted(current); walked += 1) {
      const entry = entries.next();
      if (entry === undefined) break;
      const next = parseForwardedEntry(entry);
      if (next === undefined) break;
      current = next;
    }
    return formatIp(current);
  };
}

/**
 * Reads comma-separated entries from the right of one or several header values without splitting
 * the whole header: only the hops actually walked are looked at.
 */
class ForwardedForReader {
  private readonly values: readonly string[];
  private valueIndex: number;
  private end: number;

  constructor(header: string | readonly string[]) {
    this.values = typeof header === 'string' ? [header] : header;
    this.valueIndex = this.values.length - 1;
    this.end = this.values[this.valueIndex]?.length ?? 0;
  }

  /** The next entry from the right, trimmed; `undefined` when none is left. Empty entries are skipped. */
  next(): string | undefined {
    while (this.valueIndex >= 0) {
      const value = this.values[this.valueIndex];
      if (typeof value !== 'string' || this.end <= 0) {
        this.advanceValue();
        continue;
      }
      const comma = value.lastIndexOf(',', this.end - 1);
      const entry = value.slice(comma + 1, this.end).trim();
      if (comma === -1) this.advanceValue();
      else this.end = comma;
      if (entry.length > 0) return entry;
    }
    return undefined;
  }

  private advanceValue(): void {
    this.valueIndex -= 1;
    this.end = this.values[this.valueIndex]?.length ?? 0;
  }
}

/** One `X-Forwarded-For` entry, with an optional port, as a normalised address. */
function parseForwardedEntry(entry: string): IpAddress | undefined {
  if (entry.charCodeAt(0) === 0x5b /* [ */) {
    const close = entry.indexOf(']');
    if (close === -1 || !isPortSuffix(entry, close + 1)) return undefined;
    return parseIp(entry.slice(1, close));
  }
  const colon = entry.indexOf(':');
  // Exactly one colon: IPv4 with a port. Two or more: IPv6 (which cannot carry a port unbracketed).
  if (colon !== -1 && entry.indexOf(':', colon + 1) === -1) {
    if (!isPortSuffix(entry, colon)) return undefined;
    const address = parseIp(entry.slice(0, colon));
    return address?.kind() === 'ipv4' ? address : undefined;
  }
  return parseIp(entry);
}

/** Whether `entry` ends at `start` or continues with `:` and 1–5 digits there. */
function isPortSuffix(entry: string, start: number): boolean {
  if (start === entry.length) return true;
  return entry.charCodeAt(start) === 0x3a /* : */ && /^\d{1,5}$/.test(entry.slice(start + 1));
}
