import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createClientIpResolver, UNKNOWN_CLIENT_IP } from './client-ip.js';

describe('createClientIpResolver', () => {
  it('returns the direct peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    const resolve = createClientIpResolver();
    expect(resolve('198.51.100.1', '203.0.113.9')).toBe('198.51.100.1');
    expect(resolve('198.51.100.1', undefined)).toBe('198.51.100.1');
  });

  it('ignores a spoofed X-Forwarded-For sent by an untrusted peer', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'] });
    // The attacker connects directly and claims to be a trusted internal address.
    expect(resolve('198.51.100.66', '10.0.0.1')).toBe('198.51.100.66');
    expect(resolve('198.51.100.66', '127.0.0.1, 10.0.0.2')).toBe('198.51.100.66');
    expect(resolve('198.51.100.66', ['1.1.1.1', '10.0.0.2'])).toBe('198.51.100.66');
  });

  it('walks from the right past trusted proxies only', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['loopback', '10.0.0.0/8'] });
    expect(resolve('127.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(resolve('10.0.0.5', '203.0.113.9, 10.0.0.7')).toBe('203.0.113.9');
    // What the client wrote itself (left of the first untrusted hop) is never believed.
    expect(resolve('10.0.0.5', '6.6.6.6, 203.0.113.9, 10.0.0.7')).toBe('203.0.113.9');
  });

  it('returns the left-most entry when every hop is trusted', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['private'] });
    expect(resolve('10.0.0.1', '192.168.1.1, 172.16.0.1')).toBe('192.168.1.1');
  });

  it('reads several header values as one list, right-most value last', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'] });
    expect(resolve('10.0.0.1', ['203.0.113.9', '10.0.0.2, 10.0.0.3'])).toBe('203.0.113.9');
    expect(resolve('10.0.0.1', ['203.0.113.9, 10.0.0.9', ''])).toBe('203.0.113.9');
  });

  it('skips empty entries and surrounding whitespace', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'] });
    expect(resolve('10.0.0.1', ' 203.0.113.9 ,\t, 10.0.0.2 ,')).toBe('203.0.113.9');
  });

  it('terminates on leading, doubled and lone commas (regression: a leading comma looped forever)', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['0.0.0.0/0', '::/0'] });
    expect(resolve('10.0.0.1', ',203.0.113.9')).toBe('203.0.113.9');
    expect(resolve('10.0.0.1', ',,')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', [',', ', 203.0.113.9', ''])).toBe('203.0.113.9');
    expect(resolve('10.0.0.1', ',')).toBe('10.0.0.1');
  });

  it('stops at an invalid entry and returns the last valid hop, never the garbage', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'] });
    expect(resolve('10.0.0.1', '203.0.113.9, not-an-ip')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', '203.0.113.9, 10.0.0.2, <script>')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', 'unknown, 10.0.0.2')).toBe('10.0.0.2');
    // Legacy IPv4 spellings that inet_aton would expand are not addresses here.
    expect(resolve('10.0.0.1', '127.1')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', '0x7f.0.0.1')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', '010.0.0.1')).toBe('10.0.0.1');
  });

  it('normalises IPv4-mapped IPv6 to IPv4, both for the peer and for header entries', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'] });
    expect(resolve('::ffff:10.0.0.1', '::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(resolve('::ffff:198.51.100.1', undefined)).toBe('198.51.100.1');
    // A mapped peer matches an IPv4 trusted range.
    expect(resolve('::ffff:10.1.2.3', '203.0.113.9')).toBe('203.0.113.9');
  });

  it('returns IPv6 in canonical RFC 5952 form and drops zone ids', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['loopback'] });
    expect(resolve('::1', '2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(resolve('fe80::1%eth0', undefined)).toBe('fe80::1');
  });

  it('accepts ports on entries, as some load balancers write them', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'] });
    expect(resolve('10.0.0.1', '203.0.113.9:51234')).toBe('203.0.113.9');
    expect(resolve('10.0.0.1', '[2001:db8::7]:443')).toBe('2001:db8::7');
    expect(resolve('10.0.0.1', '[2001:db8::7]')).toBe('2001:db8::7');
    expect(resolve('10.0.0.1', '203.0.113.9:port')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', '[2001:db8::7]x')).toBe('10.0.0.1');
  });

  it('walks exactly `hops` hops when proxy addresses are unknown', () => {
    const one = createClientIpResolver({ hops: 1 });
    expect(one('198.51.100.1', '6.6.6.6, 203.0.113.9')).toBe('203.0.113.9');
    const two = createClientIpResolver({ hops: 2 });
    expect(two('198.51.100.1', '6.6.6.6, 203.0.113.9, 198.51.100.2')).toBe('203.0.113.9');
    // A shorter header than expected: the furthest entry available.
    expect(two('198.51.100.1', '203.0.113.9')).toBe('203.0.113.9');
    const zero = createClientIpResolver({ hops: 0 });
    expect(zero('198.51.100.1', '203.0.113.9')).toBe('198.51.100.1');
  });

  it('treats an empty proxy list plus hops as hops only', () => {
    const resolve = createClientIpResolver({ trustedProxies: [], hops: 1 });
    expect(resolve('198.51.100.1', '203.0.113.9')).toBe('203.0.113.9');
  });

  it('with both hops and trusted proxies, requires a hop to be trusted and within the count', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'], hops: 1 });
    expect(resolve('10.0.0.1', '10.0.0.2, 10.0.0.3')).toBe('10.0.0.3');
    expect(resolve('198.51.100.1', '10.0.0.3')).toBe('198.51.100.1');
  });

  it('handles a missing or non-IP remote address without consulting the header', () => {
    const resolve = createClientIpResolver({ hops: 1 });
    expect(resolve(undefined, '203.0.113.9')).toBe(UNKNOWN_CLIENT_IP);
    expect(resolve('', '203.0.113.9')).toBe(UNKNOWN_CLIENT_IP);
    expect(resolve('/run/app.sock', '203.0.113.9')).toBe('/run/app.sock');
  });

  it('bounds the walk on an enormous header from trusted proxies', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'] });
    const header = Array.from({ length: 5000 }, () => '10.0.0.9').join(', ');
    expect(resolve('10.0.0.1', `203.0.113.9, ${header}`)).toBe('10.0.0.9');
  });

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => createClientIpResolver({ trustedProxies: ['10.0.0.0/33'] })).toThrow(/trustedProxies.*10\.0\.0\.0\/33/);
    expect(() => createClientIpResolver({ trustedProxies: ['everyone'] })).toThrow(TypeError);
    expect(() => createClientIpResolver({ hops: -1 })).toThrow(/hops/);
    expect(() => createClientIpResolver({ hops: 1.5 })).toThrow(/hops/);
    expect(() => createClientIpResolver({ trustedProxies: '10.0.0.1' as unknown as string[] })).toThrow(/trustedProxies/);
  });

  it('never throws and always returns a string for arbitrary header content', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['0.0.0.0/0', '::/0'] });
    fc.assert(
      fc.property(fc.option(fc.oneof(fc.string(), fc.ipV4(), fc.ipV6()), { nil: undefined }), fc.oneof(fc.string(), fc.array(fc.string()), fc.tuple(fc.array(fc.oneof(fc.constant(''), fc.constant(','), fc.ipV4(), fc.ipV6(), fc.string())), fc.constantFrom(',', ', ', ',,')).map(([parts, separator]) => parts.join(separator))), (remote, header) => {
        expect(typeof resolve(remote, header)).toBe('string');
      }),
    );
  });

  it('an untrusted peer is always the answer, whatever the header (property)', () => {
    const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'] });
    fc.assert(
      fc.property(fc.ipV4(), fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string())), (peer, entries) => {
        fc.pre(!peer.startsWith('10.'));
        expect(resolve(peer, entries.join(','))).toBe(peer);
      }),
    );
  });
});
