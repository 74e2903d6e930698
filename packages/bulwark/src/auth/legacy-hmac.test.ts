import { createHmac, randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createLegacyHmacVerifier, signLegacy, type LegacyHmacVerifierOptions } from './legacy-hmac.js';
import { sharedSecretBytes } from './legacy-hmac-secret.js';
import { createMemoryReplayStore } from './memory-replay-store.js';
import type { ReplayStore } from './replay-store.js';

const NOW = 1_700_000_000;
const SECRET = randomBytes(32).toString('base64');
let clock = NOW * 1000;
let replayStore: ReplayStore;

beforeEach(() => {
  clock = NOW * 1000;
  replayStore = createMemoryReplayStore({ now: () => clock });
});

function verifier(options: Partial<LegacyHmacVerifierOptions> = {}) {
  return createLegacyHmacVerifier({ secret: SECRET, replayStore, now: () => clock, registry: createMetricsRegistry({ defaultMetrics: false }), ...options });
}

function request(headers: Record<string, string | string[]>, method = 'POST', url = '/orders?id=7') {
  return { method, url, headers };
}

function signed(timestamp = NOW, secret: string = SECRET, method = 'POST', path = '/orders?id=7') {
  const headers = signLegacy({ method, path, secret, timestamp });
  return request({ 'x-timestamp': headers['X-Timestamp'], 'x-signature': headers['X-Signature'] }, method, path);
}

async function reasonOf(result: Promise<{ ok: boolean; reason?: string }>): Promise<string> {
  const value = await result;
  return value.ok ? 'ok' : (value.reason ?? '');
}

describe('createLegacyHmacVerifier', () => {
  it('accepts METHOD:path:timestamp signed with the shared secret', async () => {
    expect(await verifier().verify(signed())).toEqual({ ok: true, keyId: 'legacy', timestamp: NOW });
  });

  it('signs exactly the hex HMAC-SHA256 of METHOD:path:timestamp', () => {
    const expected = createHmac('sha256', Buffer.from(SECRET)).update(`POST:/orders?id=7:${NOW}`).digest('hex');
    expect(signLegacy({ method: 'post', path: '/orders?id=7', secret: SECRET, timestamp: NOW })).toEqual({ 'X-Timestamp': String(NOW), 'X-Signature': expected });
  });

  it('accepts upper- and lower-case hex, but only once between them (replay keyed on the signature)', async () => {
    const request_ = signed();
    const upper = { ...request_, headers: { ...request_.headers, 'x-signature': (request_.headers['x-signature'] as string).toUpperCase() } };
    expect(await reasonOf(verifier().verify(upper))).toBe('ok');
    expect(await reasonOf(verifier().verify(request_))).toBe('replayed');
  });

  it('refuses a replay of the same request within the window', async () => {
    const request_ = signed();
    expect(await reasonOf(verifier().verify(request_))).toBe('ok');
    clock += 30_000;
    expect(await reasonOf(verifier().verify(request_))).toBe('replayed');
  });

  it('accepts ±60 s in both directions and refuses beyond', async () => {
    expect(await reasonOf(verifier().verify(signed(NOW - 60)))).toBe('ok');
    expect(await reasonOf(verifier().verify(signed(NOW + 60)))).toBe('ok');
    expect(await reasonOf(verifier().verify(signed(NOW - 61)))).toBe('expired');
    expect(await reasonOf(verifier().verify(signed(NOW + 61)))).toBe('future');
  });

  it('refuses a wrong secret, method, path or query', async () => {
    expect(await reasonOf(verifier().verify(signed(NOW, randomBytes(32).toString('hex'))))).toBe('bad_signature');
    const request_ = signed();
    expect(await reasonOf(verifier().verify({ ...request_, method: 'DELETE' }))).toBe('bad_signature');
    expect(await reasonOf(verifier().verify({ ...request_, url: '/orders?id=8' }))).toBe('bad_signature');
    expect(await reasonOf(verifier().verify({ ...request_, url: '/admin?id=7' }))).toBe('bad_signature');
  });

  it('signs the path without the query when includeQuery is false', async () => {
    const request_ = signed(NOW, SECRET, 'GET', '/orders');
    expect(await reasonOf(verifier({ includeQuery: false }).verify({ ...request_, url: '/orders?page=2' }))).toBe('ok');
  });

  it('accepts every secret of a rotation', async () => {
    const next = randomBytes(32).toString('base64');
    const rotating = verifier({ secret: [SECRET, next] });
    expect(await reasonOf(rotating.verify(signed(NOW, SECRET)))).toBe('ok');
    expect(await reasonOf(rotating.verify(signed(NOW + 1, next)))).toBe('ok');
  });

  it('refuses timestamps that are not canonical integers of seconds', async () => {
    for (const timestamp of ['1e9', '12.5', '+12', '-12', '012', '00', '', ' 1700000000', '1700000000 ', '0x10', '12345678901234', '1_700_000_000', 'NaN', 'Infinity']) {
      const headers = { 'x-timestamp': timestamp, 'x-signature': 'ab'.repeat(32) };
      expect(await reasonOf(verifier().verify(request(headers)))).toBe('malformed');
    }
  });

  it('accepts a timestamp of 0 as a (long expired) integer and 13 digits as a (far future) one', async () => {
    const signature = 'ab'.repeat(32);
    expect(await reasonOf(verifier().verify(request({ 'x-timestamp': '0', 'x-signature': signature })))).toBe('expired');
    expect(await reasonOf(verifier().verify(request({ 'x-timestamp': '9999999999999', 'x-signature': signature })))).toBe('future');
  });

  it('compares length-safely: signatures of every wrong length are refused without throwing', async () => {
    const good = signed().headers['x-signature'] as string;
    for (let length = 1; length <= 130; length += 1) {
      if (length === 64) continue;
      const headers = { 'x-timestamp': String(NOW), 'x-signature': good.repeat(3).slice(0, length) };
      expect(await reasonOf(verifier().verify(request(headers)))).toBe('bad_signature');
    }
  });

  it('reports missing and malformed headers as values', async () => {
    expect(await reasonOf(verifier().verify(request({})))).toBe('missing');
    expect(await reasonOf(verifier().verify(request({ 'x-timestamp': String(NOW) })))).toBe('malformed');
    expect(await reasonOf(verifier().verify(request({ 'x-signature': 'ab' })))).toBe('malformed');
    expect(await reasonOf(verifier().verify(request({ 'x-timestamp': String(NOW), 'x-signature': 'not-hex!' })))).toBe('malformed');
    expect(await reasonOf(verifier().verify(request({ 'x-timestamp': String(NOW), 'x-signature': 'a'.repeat(257) })))).toBe('malformed');
    expect(await reasonOf(verifier().verify(request({ 'x-timestamp': [String(NOW), String(NOW)], 'x-signature': 'ab' })))).toBe('malformed');
  });

  it('fails closed with unavailable when the replay store fails', async () => {
    const broken: ReplayStore = { checkAndStore: () => Promise.reject(new Error('down')), release: () => Promise.reject(new Error('down')) };
    expect(await reasonOf(verifier({ replayStore: broken }).verify(signed()))).toBe('unavailable');
  });

  it('uses configured header names and client id', async () => {
    const headers = signLegacy({ method: 'GET', path: '/x', secret: SECRET, timestamp: NOW });
    const custom = verifier({ timestampHeader: 'X-Request-Time', signatureHeader: 'X-Auth', clientId: 'erp' });
    expect(await custom.verify(request({ 'x-request-time': headers['X-Timestamp'], 'x-auth': headers['X-Signature'] }, 'GET', '/x'))).toEqual({ ok: true, keyId: 'erp', timestamp: NOW });
  });

  it('never throws, whatever the headers (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.string(), fc.string(), async (headers, timestamp, signature) => {
        const v = verifier();
        expect((await v.verify({ method: 'GET', url: '/', headers: headers as Record<string, string> })).ok).toBe(false);
        expect((await v.verify(request({ 'x-timestamp': timestamp, 'x-signature': signature }))).ok).toBe(false);
        expect((await v.verify(headers as never)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('legacy HMAC secrets are validated when the verifier is created', () => {
  it.each([
    ['too short', 'a1B2c3D4e5'],
    ['a placeholder', 'changeme-changeme-changeme-changeme-42'],
    ['a template left in', '${LEGACY_HMAC_SECRET}-that-was-never-interpolated'],
    ['a documentation value', '<your-secret-of-at-least-32-characters-here>'],
    ['a repeated pattern', 'abababababababababababababababababab'],
    ['all one character', 'x'.repeat(64)],
  ])('refuses a secret that is %s with a TypeError that does not echo it', (_label, secret) => {
    let error: unknown;
    try {
      createLegacyHmacVerifier({ secret, replayStore: createMemoryReplayStore() });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toMatch(/secret/);
    expect((error as TypeError).message).not.toContain(secret);
  });

  it('refuses an empty rotation list, a missing replay store and out-of-range windows', () => {
    expect(() => createLegacyHmacVerifier({ secret: [], replayStore: createMemoryReplayStore() })).toThrow(TypeError);
    expect(() => createLegacyHmacVerifier({ secret: SECRET } as LegacyHmacVerifierOptions)).toThrow(/replayStore/);
    expect(() => createLegacyHmacVerifier({ secret: SECRET, replayStore: createMemoryReplayStore(), windowSeconds: 0 })).toThrow(/windowSeconds/);
    expect(() => createLegacyHmacVerifier({ secret: [SECRET, 'short'], replayStore: createMemoryReplayStore() })).toThrow(/secret\[1\]/);
  });

  it('accepts random secrets as strings or bytes', () => {
    expect(sharedSecretBytes(randomBytes(32), 'secret').byteLength).toBe(32);
    expect(sharedSecretBytes(randomBytes(32).toString('base64url'), 'secret').byteLength).toBe(43);
  });
});
