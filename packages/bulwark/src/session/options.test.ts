import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createKeyring, generateMasterKey, parseMasterKey } from '../crypto/index.js';
import { createMemorySessionStore } from './memory-store.js';
import type { MemorySessionStoreOptions } from './memory-store.js';
import { SESSION_DEFAULTS } from './options.js';
import { createRedisSessionStore } from './redis-store.js';

const keyring = createKeyring({ current: parseMasterKey(generateMasterKey()) });

describe('session store options', () => {
  it('defaults to a 15-minute idle timeout, 8-hour absolute timeout, lock after 10 failures for 15 minutes', () => {
    expect(SESSION_DEFAULTS).toMatchObject({ idleTimeoutMs: 900_000, absoluteTimeoutMs: 28_800_000, lockoutThreshold: 10, lockoutMs: 900_000 });
    const store = createMemorySessionStore({ keyring });
    expect(store.timeouts).toEqual({ idleTimeoutMs: 900_000, absoluteTimeoutMs: 28_800_000, renewalIntervalMs: undefined });
    // An idle timeout longer than the default absolute one raises the absolute default with it.
    expect(createMemorySessionStore({ keyring, idleTimeoutMs: 10 * 3_600_000 }).timeouts.absoluteTimeoutMs).toBe(10 * 3_600_000);
  });

  it('refuses every out-of-range option with a TypeError naming it', () => {
    const cases: [Partial<MemorySessionStoreOptions>, RegExp][] = [
      [{ keyring: undefined as never }, /keyring/],
      [{ keyring: { subkey: () => Buffer.alloc(32) } as never }, /keyring/],
      [{ idleTimeoutMs: 999 }, /idleTimeoutMs must be an integer between 1000/],
      [{ idleTimeoutMs: 1.5e3 + 0.5 }, /idleTimeoutMs/],
      [{ idleTimeoutMs: 60_000, absoluteTimeoutMs: 59_999 }, /absoluteTimeoutMs/],
      [{ renewalIntervalMs: 0 }, /renewalIntervalMs/],
      [{ renewalIntervalMs: 9 * 3_600_000 }, /renewalIntervalMs/],
      [{ renewalGraceMs: -1 }, /renewalGraceMs/],
      [{ idleTimeoutMs: 60_000, touchIntervalMs: 6001 }, /touchIntervalMs must be an integer between 0 and 6000/],
      [{ ipBinding: 'prefix' as never }, /ipBinding must be/],
      [{ ipBinding: { ipv4PrefixBits: 4, ipv6PrefixBits: 48 } }, /ipv4PrefixBits/],
      [{ ipBinding: { ipv4PrefixBits: 24, ipv6PrefixBits: 129 } }, /ipv6PrefixBits/],
      [{ fingerprint: true as never }, /fingerprint must be/],
      [{ fingerprint: { headers: [] } }, /fingerprint.headers/],
      [{ lockout: { threshold: 0 } }, /lockout.threshold/],
      [{ lockout: { lockMs: 10 } }, /lockout.lockMs/],
      [{ lockout: { windowMs: Number.POSITIVE_INFINITY } }, /lockout.windowMs/],
      [{ lockout: { countMismatches: 'no' as never } }, /lockout.countMismatches/],
      [{ lockout: { backoff: { factor: 0.5 } } }, /lockout.backoff.factor/],
      [{ lockout: { lockMs: 60_000, backoff: { maxLockMs: 1000 } } }, /lockout.backoff.maxLockMs/],
      [{ maxSessionsPerUser: 0 }, /maxSessionsPerUser/],
      [{ maxDataBytes: 1 << 20 }, /maxDataBytes/],
      [{ now: 42 as never }, /now/],
      [{ logger: {} as never }, /logger/],
      [{ maxSessions: 0 }, /maxSessions/],
      [{ maxLockouts: -1 }, /maxLockouts/],
    ];
    for (const [options, message] of cases) {
      expect(() => createMemorySessionStore({ keyring, ...options } as MemorySessionStoreOptions)).toThrow(TypeError);
      expect(() => createMemorySessionStore({ keyring, ...options } as MemorySessionStoreOptions)).toThrow(message);
    }
  });

  it('checks the Redis options too, without connecting', () => {
    const client = new Redis({ lazyConnect: true });
    expect(() => createRedisSessionStore({ keyring, client: {} as never })).toThrow(/client must be an ioredis/);
    expect(() => createRedisSessionStore({ keyring, client, keyPrefix: 'a{b}' })).toThrow(/keyPrefix/);
    expect(() => createRedisSessionStore({ keyring, client, keyPrefix: 'has space' })).toThrow(/keyPrefix/);
    expect(() => createRedisSessionStore({ keyring, client, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(client.status).toBe('wait');
    client.disconnect();
  });

  it('refuses a missing or malformed request context at the call', async () => {
    const store = createMemorySessionStore({ keyring });
    await expect(store.create({ tenant: 't', userId: 'u', context: undefined as never })).rejects.toThrow(/create: context/);
    await expect(store.validate('x', { ip: '1.2.3.4' } as never)).rejects.toThrow(/validate: context/);
    await expect(store.update('x', { data: {}, expectedVersion: 1.5 })).rejects.toThrow(/expectedVersion/);
    await expect(store.modify('x', (data) => data, 0)).rejects.toThrow(/attempts/);
  });
});
