import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ipInCidrs, isLoopback, normalizeIp, parseCidrList } from './ip-address.js';
import { ipPrefixKey, ipRateLimitKey } from './ip-key.js';

describe('normalizeIp', () => {
  it('canonicalises IPv6 and maps IPv4-mapped addresses to IPv4', () => {
    expect(normalizeIp('2001:DB8:0000:0::1')).toBe('2001:db8::1');
    expect(normalizeIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('::FFFF:c000:0201')).toBe('192.0.2.1');
    expect(normalizeIp('fe80::1%25eth0')).toBe('fe80::1');
  });

  it('refuses legacy and padded spellings', () => {
    for (const bad of ['127.1', '0x7f.0.0.1', '017.0.0.1', ' 1.2.3.4', '1.2.3.4 ', '', '1.2.3.4.5', '::ffff:127.1', 'a'.repeat(100)]) {
      expect(normalizeIp(bad)).toBeUndefined();
    }
  });

  it('round-trips every generated address to a canonical fixed point', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
        const once = normalizeIp(ip);
        expect(once).toBeDefined();
        expect(normalizeIp(once!)).toBe(once);
      }),
    );
  });
});

describe('parseCidrList and ipInCidrs', () => {
  it('matches addresses, ranges and presets', () => {
    const list = parseCidrList(['loopback', '10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
    expect(ipInCidrs('127.0.0.1', list)).toBe(true);
    expect(ipInCidrs('::1', list)).toBe(true);
    expect(ipInCidrs('10.255.0.1', list)).toBe(true);
    expect(ipInCidrs('11.0.0.1', list)).toBe(false);
    expect(ipInCidrs('2001:db8:ffff::1', list)).toBe(true);
    expect(ipInCidrs('2001:db9::1', list)).toBe(false);
    expect(ipInCidrs('192.0.2.7', list)).toBe(true);
    expect(ipInCidrs('192.0.2.8', list)).toBe(false);
  });

  it('matches IPv4-mapped addresses against IPv4 ranges and mapped ranges as IPv4', () => {
    expect(ipInCidrs('::ffff:10.1.1.1', parseCidrList(['10.0.0.0/8']))).toBe(true);
    expect(ipInCidrs('10.1.1.1', parseCidrList(['::ffff:10.0.0.0/104']))).toBe(true);
  });

  it('puts invalid addresses in no range, not even 0.0.0.0/0', () => {
    const everything = parseCidrList(['0.0.0.0/0', '::/0']);
    expect(ipInCidrs('not an ip', everything)).toBe(false);
    expect(ipInCidrs('127.1', everything)).toBe(false);
  });

  it('includes the private and link-local presets', () => {
    const list = parseCidrList(['private', 'linklocal']);
    for (const ip of ['10.1.1.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', 'fd00::1', '169.254.1.1', 'fe80::1']) {
      expect(ipInCidrs(ip, list)).toBe(true);
    }
    for (const ip of ['172.32.0.1', '8.8.8.8', '2001:db8::1']) expect(ipInCidrs(ip, list)).toBe(false);
  });

  it('throws a TypeError naming the bad entry', () => {
    expect(() => parseCidrList(['10.0.0.0/8', 'bogus'], 'METRICS_ALLOWED_IPS')).toThrow(/METRICS_ALLOWED_IPS: "bogus"/);
    expect(() => parseCidrList(['10.0.0.0/'])).toThrow(/"10\.0\.0\.0\/"/);
    expect(() => parseCidrList(['::/129'])).toThrow(TypeError);
    expect(() => parseCidrList(['10.0.0.0/08'])).toThrow(TypeError);
    expect(() => parseCidrList([42 as unknown as string])).toThrow(/string/);
  });

  it('agrees with a bitwise reference for IPv4 ranges (property)', () => {
    const toInt = (ip: string) => ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, base, bits) => {
        const span = 2 ** (32 - bits);
        const expected = Math.floor(toInt(ip) / span) === Math.floor(toInt(base) / span);
        expect(ipInCidrs(ip, parseCidrList([`${base}/${bits}`]))).toBe(expected);
      }),
    );
  });
});

describe('isLoopback', () => {
  it('recognises loopback in all forms and nothing else', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.255.0.9')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('128.0.0.1')).toBe(false);
    expect(isLoopback('::2')).toBe(false);
    expect(isLoopback('localhost')).toBe(false);
    expect(isLoopback('127.1')).toBe(false);
  });
});

describe('ipRateLimitKey and ipPrefixKey', () => {
  it('keeps IPv4 as is and groups IPv6 to its /56', () => {
    expect(ipRateLimitKey('198.51.100.7')).toBe('198.51.100.7');
    expect(ipRateLimitKey('2001:db8:ab:cd12::1')).toBe('2001:db8:ab:cd00::/56');
    expect(ipRateLimitKey('2001:DB8:AB:CDFF:ffff:ffff:ffff:ffff')).toBe('2001:db8:ab:cd00::/56');
    expect(ipRateLimitKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
  });

  it('gives every address of one /56 the same key and neighbouring /56s different keys', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 0xff }), (tail, low) => {
        const a = `2001:db8:1:${(0x4200 | low).toString(16)}:${tail.map((w) => w.toString(16)).join(':')}`;
        expect(ipRateLimitKey(a)).toBe('2001:db8:1:4200::/56');
      }),
    );
    expect(ipRateLimitKey('2001:db8:1:4300::1')).not.toBe(ipRateLimitKey('2001:db8:1:4200::1'));
  });

  it('masks at any prefix length', () => {
    expect(ipPrefixKey('203.0.113.77', 24, 64)).toBe('203.0.113.0/24');
    expect(ipPrefixKey('203.0.113.77', 0, 64)).toBe('0.0.0.0/0');
    expect(ipPrefixKey('203.0.113.77', 25, 64)).toBe('203.0.113.0/25');
    expect(ipPrefixKey('203.0.113.200', 25, 64)).toBe('203.0.113.128/25');
    expect(ipPrefixKey('2001:db8:ab:cd12:1::7', 32, 64)).toBe('2001:db8:ab:cd12::/64');
    expect(ipPrefixKey('2001:db8:ab:cd12:1::7', 32, 48)).toBe('2001:db8:ab::/48');
    expect(ipPrefixKey('2001:db8:ab:cd12:1::7', 32, 128)).toBe('2001:db8:ab:cd12:1::7');
  });

  it('returns non-addresses unchanged and rejects bad prefix lengths', () => {
    expect(ipRateLimitKey('unknown')).toBe('unknown');
    expect(() => ipPrefixKey('1.2.3.4', 33, 56)).toThrow(/v4Bits/);
    expect(() => ipPrefixKey('1.2.3.4', 32, -1)).toThrow(/v6Bits/);
  });
});
