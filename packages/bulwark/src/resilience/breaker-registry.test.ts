import { afterEach, describe, expect, it, vi } from 'vitest';
import { calls, fail, freshRegistry, manualClock, recordingLogger, sample, succeed } from '../../test/resilience/support.js';
import { createBreakerRegistry, type BreakerRegistryOptions } from './breaker-registry.js';

function setup(options: Partial<BreakerRegistryOptions> = {}) {
  const clock = manualClock();
  const registry = freshRegistry();
  const logger = recordingLogger();
  const breakers = createBreakerRegistry({
    maxSize: 3,
    idleMs: 10_000,
    registry,
    logger,
    defaults: { service: 'redis', failureThreshold: 1, resetTimeoutMs: 1000, halfOpenRequests: 1, now: clock.now },
    ...options,
  });
  return { clock, registry, logger, breakers };
}

describe('breaker registry', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('returns one breaker per key, named by the key, labelled by the default service', async () => {
    const { breakers, registry } = setup();
    const first = breakers.get('node-1');
    expect(breakers.get('node-1')).toBe(first);
    expect(breakers.get('node-2')).not.toBe(first);
    expect(first.name).toBe('node-1');
    expect(first.service).toBe('redis');
    expect(breakers.size).toBe(2);
    expect(await registry.metrics()).not.toContain('node-1');
  });

  it('applies overrides when it creates a breaker, and only then', () => {
    const { breakers } = setup();
    const breaker = breakers.get('orders', { service: 'orders', failureThreshold: 2 });
    expect(breaker.service).toBe('orders');
    expect(breakers.get('orders', { service: 'other' }).service).toBe('orders');
  });

  it('stays within maxSize by evicting a closed breaker idle for idleMs', () => {
    const { breakers, clock } = setup();
    const oldest = breakers.get('a');
    breakers.get('b');
    breakers.get('c');
    clock.advance(10_000);
    breakers.get('b');
    breakers.get('c');
    breakers.get('d');
    expect(breakers.size).toBe(3);
    expect(breakers.peek('a')).toBeUndefined();
    expect([...breakers.keys()].sort()).toEqual(['b', 'c', 'd']);
    expect(breakers.get('a')).not.toBe(oldest);
  });

  it('never evicts an open breaker, nor a recently used one: new keys share the overflow breaker instead', async () => {
    const { breakers, clock, logger } = setup();
    await calls((f) => breakers.get('a').execute(f), fail, 1);
    await calls((f) => breakers.get('b').execute(f), fail, 1);
    clock.advance(10_000);
    breakers.get('c'); // used now: not idle
    const overflow = breakers.get('d');
    expect(overflow.name).toBe('<overflow>');
    expect(breakers.get('e')).toBe(overflow);
    expect(breakers.size).toBe(3);
    expect(breakers.peek('a')?.state).toBe('half-open');
    expect(logger.entries.filter((entry) => entry.message?.includes('overflow breaker'))).toHaveLength(1);
    expect(breakers.snapshots().map((snapshot) => snapshot.name)).toContain('<overflow>');
  });

  it('never evicts an isolated or disabled breaker', () => {
    const { breakers, clock } = setup({ maxSize: 2 });
    breakers.get('a').isolate();
    breakers.get('b').setMode('disabled');
    clock.advance(60_000);
    expect(breakers.get('c').name).toBe('<overflow>');
  });

  it('evicts again once breakers become idle, and reports room again', () => {
    const { breakers, clock, logger } = setup({ maxSize: 1 });
    breakers.get('a');
    expect(breakers.get('b').name).toBe('<overflow>');
    clock.advance(10_000);
    expect(breakers.get('b').name).toBe('b');
    expect(logger.entries.some((entry) => entry.message === 'circuit breaker registry has room again')).toBe(true);
  });

  it('removes the metric series of an evicted breaker that was the last of its service', async () => {
    const { breakers, clock, registry } = setup({ maxSize: 1 });
    await breakers.get('orders', { service: 'orders' }).execute(succeed);
    expect(await sample(registry, 'circuit_breaker_requests_total{service="orders",result="success"}')).toBe(1);
    clock.advance(10_000);
    breakers.get('users', { service: 'users' });
    const text = await registry.metrics();
    expect(text).not.toContain('service="orders"');
    expect(text).toContain('circuit_breaker_state{service="users"} 0');
  });

  it('keeps a shared service series while other breakers of the service remain', async () => {
    const { breakers, clock, registry } = setup({ maxSize: 2 });
    await breakers.get('a').execute(succeed);
    clock.advance(10_000);
    breakers.get('b');
    breakers.get('c'); // evicts a
    expect(await sample(registry, 'circuit_breaker_requests_total{service="redis",result="success"}')).toBe(1);
  });

  it('delete disposes the breaker; clear empties the registry and its series', async () => {
    const { breakers, registry } = setup();
    breakers.get('a', { service: 'a' });
    breakers.get('b');
    expect(breakers.delete('a')).toBe(true);
    expect(breakers.delete('a')).toBe(false);
    expect(await registry.metrics()).not.toContain('service="a"');
    breakers.clear();
    expect(breakers.size).toBe(0);
    expect(await registry.metrics()).not.toContain('service="redis"');
  });

  it('peek neither creates nor counts as use', () => {
    const { breakers, clock } = setup({ maxSize: 1 });
    expect(breakers.peek('a')).toBeUndefined();
    breakers.get('a');
    clock.advance(10_000);
    breakers.peek('a');
    expect(breakers.get('b').name).toBe('b');
  });

  it('filters and caps snapshots', async () => {
    const { breakers } = setup({ maxSize: 10 });
    for (const key of ['a', 'b', 'c']) breakers.get(key);
    await calls((f) => breakers.get('b').execute(f), fail, 1);
    expect(breakers.snapshots({ states: ['open'] }).map((snapshot) => snapshot.name)).toEqual(['b']);
    expect(breakers.snapshots({ limit: 2 })).toHaveLength(2);
    expect(breakers.snapshots()).toHaveLength(3);
  });

  it('finds an idle breaker among many busy ones within a bounded scan', () => {
    const { breakers, clock } = setup({ maxSize: 1000 });
    for (let index = 0; index < 1000; index += 1) breakers.get(`k${index}`).isolate();
    breakers.get('k500').reset(); // one evictable breaker, somewhere in the middle
    clock.advance(10_000);
    let created = 0;
    for (let attempt = 0; attempt < 20 && created === 0; attempt += 1) {
      if (breakers.get(`new-${attempt}`).name !== '<overflow>') created += 1;
    }
    expect(created).toBe(1);
    expect(breakers.peek('k500')).toBeUndefined();
    expect(breakers.size).toBe(1000);
  });

  it.each([
    [{ maxSize: 0 }, /maxSize must be an integer from 1 to 10000000/],
    [{ idleMs: -1 }, /idleMs must be an integer from 0 to 86400000/],
    [{ defaults: { failureThreshold: 1 } }, /defaults.service is required/],
    [{ defaults: { service: 'x', name: 'y' } }, /defaults.name is not allowed/],
    [{ defaults: { service: 'x', resetTimeoutMs: 1 } }, /defaults.resetTimeoutMs must be an integer from 100/],
    [{ size: 3 }, /unknown option "size"/],
  ])('rejects %j at creation', (override, message) => {
    expect(() => setup(override as Partial<BreakerRegistryOptions>)).toThrow(message);
  });

  it('validates the environment at creation, not on the first get', () => {
    vi.stubEnv('BULWARK_BREAKER_HALF_OPEN_REQUESTS', '0');
    expect(() => createBreakerRegistry({ maxSize: 10, registry: freshRegistry(), defaults: { service: 'x' } })).toThrow(/BULWARK_BREAKER_HALF_OPEN_REQUESTS must be an integer from 1 to 100/);
  });

  it('rejects empty and oversized keys and a name in overrides', () => {
    const { breakers } = setup();
    expect(() => breakers.get('')).toThrow(/registry key must be a non-empty string/);
    expect(() => breakers.get('k'.repeat(513))).toThrow(TypeError);
    expect(() => breakers.get('x', { name: 'y' } as never)).toThrow(/overrides.name is not allowed/);
  });
});
