import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createMemoryReplayStore } from './memory-replay-store.js';
import { hmacSignatureKey } from './signature-key.js';
import { createSignatureVerifier } from './signature-verifier.js';
import type { SignatureRequest, SignatureVerification } from './signature-types.js';
import { signRequest } from './signer.js';

const NOW = 1_700_000_000;
const SECRET = randomBytes(32);
const key = hmacSignatureKey('k1', SECRET);

function verifier() {
  return createSignatureVerifier({
    keys: (keyId) => (keyId === 'k1' ? key : undefined),
    nonceStore: createMemoryReplayStore({ now: () => NOW * 1000 }),
    now: () => NOW * 1000,
    registry: createMetricsRegistry({ defaultMetrics: false }),
  });
}

interface PlainRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

function validRequest(body = '{"a":1}'): PlainRequest {
  const added = signRequest({ method: 'POST', url: 'https://api.example.com/x?y=1', body }, { keyId: 'k1', algorithm: 'hmac-sha256', key: SECRET, created: NOW });
  return {
    method: 'POST',
    url: '/x?y=1',
    headers: { host: 'api.example.com', 'signature-input': added['Signature-Input'], signature: added.Signature, 'content-digest': added['Content-Digest']! },
    body: Buffer.from(body),
  };
}

function withHeaders(overrides: Record<string, string | string[] | undefined>): SignatureRequest {
  const request = validRequest();
  return { ...request, headers: { ...request.headers, ...overrides } };
}

const SIGNATURE_INPUT = validRequest().headers['signature-input']!;
const PARAMS = SIGNATURE_INPUT.slice(SIGNATURE_INPUT.indexOf(')') + 1);

async function reasonOf(request: SignatureRequest): Promise<string> {
  const result: SignatureVerification = await verifier().verify(request);
  return result.ok ? 'ok' : result.reason;
}

describe('signature verification under hostile input', () => {
  it('accepts the untouched request (the control for every case below)', async () => {
    expect(await reasonOf(validRequest())).toBe('ok');
  });

  it('reports missing when neither header is present or both are empty', async () => {
    expect(await reasonOf({ method: 'GET', url: '/', headers: {} })).toBe('missing');
    expect(await reasonOf(withHeaders({ 'signature-input': '', signature: '' }))).toBe('missing');
    expect(await reasonOf(withHeaders({ 'signature-input': '   ', signature: undefined }))).toBe('missing');
  });

  it('reports malformed when only one of the two headers is present', async () => {
    expect(await reasonOf(withHeaders({ signature: undefined }))).toBe('malformed');
    expect(await reasonOf(withHeaders({ 'signature-input': undefined }))).toBe('malformed');
  });

  it('refuses Signature-Input truncated at every length, without throwing', async () => {
    for (let length = 0; length < SIGNATURE_INPUT.length; length += 1) {
      expect(await reasonOf(withHeaders({ 'signature-input': SIGNATURE_INPUT.slice(0, length) }))).not.toBe('ok');
    }
  });

  it('refuses a signature of every wrong length as bad_signature', async () => {
    for (let length = 0; length <= 80; length += 1) {
      if (length === 32) continue;
      expect(await reasonOf(withHeaders({ signature: `sig1=:${randomBytes(length).toString('base64')}:` }))).toBe('bad_signature');
    }
  });

  it('refuses a signature that is not valid base64, or not a byte sequence', async () => {
    for (const signature of ['sig1=:not*base64:', 'sig1=:abc', 'sig1=abc', 'sig1="abc"', 'sig1=(:AAAA:)', 'sig1=?1', 'sig1']) {
      expect(await reasonOf(withHeaders({ signature }))).toBe('malformed');
    }
  });

  it('refuses duplicated labels, in one field line or across two', async () => {
    const signature = validRequest().headers.signature!;
    expect(await reasonOf(withHeaders({ signature: `${signature}, ${signature}` }))).toBe('malformed');
    expect(await reasonOf(withHeaders({ 'signature-input': [SIGNATURE_INPUT, SIGNATURE_INPUT] }))).toBe('malformed');
  });

  it('refuses non-integer, negative or huge created values', async () => {
    for (const created of ['12.5', '"1700000000"', 'tok', '?1', '-1', '1234567890123456', '99999999999999', ':AAAA:']) {
      const input = SIGNATURE_INPUT.replace(`created=${NOW}`, `created=${created}`);
      expect(await reasonOf(withHeaders({ 'signature-input': input }))).toBe('malformed');
    }
  });

  it('refuses unknown algorithms as alg_mismatch, and a non-string alg as malformed', async () => {
    for (const alg of ['rsa-pss-sha512', 'hmac-sha512', 'none', 'HMAC-SHA256']) {
      expect(await reasonOf(withHeaders({ 'signature-input': SIGNATURE_INPUT.replace('"hmac-sha256"', `"${alg}"`) }))).toBe('alg_mismatch');
    }
    expect(await reasonOf(withHeaders({ 'signature-input': SIGNATURE_INPUT.replace('"hmac-sha256"', 'hmac-sha256') }))).toBe('malformed');
  });

  it('refuses 100 KB headers as malformed before parsing them', async () => {
    const huge = `sig1=("@method");keyid="${'a'.repeat(100 * 1024)}"`;
    expect(await reasonOf(withHeaders({ 'signature-input': huge }))).toBe('malformed');
    expect(await reasonOf(withHeaders({ signature: `sig1=:${'A'.repeat(100 * 1024)}:` }))).toBe('malformed');
  });

  it('refuses components this profile does not process', async () => {
    for (const component of ['"@status"', '"@query-param";name="y"', '"@method";req', '"Content-Type"', '"content-digest";tr', '"content-digest";sf;bs', '"x-unknown";sf', '"@unknown"', 'token', '("@method")']) {
      const input = `sig1=(${component} "@method" "@authority" "@path" "@query" "content-digest")${PARAMS}`;
      expect(await reasonOf(withHeaders({ 'signature-input': input }))).toBe('malformed');
    }
  });

  it('refuses a component listed twice', async () => {
    const input = `sig1=("@method" "@method" "@authority" "@path" "@query" "content-digest")${PARAMS}`;
    expect(await reasonOf(withHeaders({ 'signature-input': input }))).toBe('malformed');
  });

  it('refuses a keyid or nonce that is not a string, empty or longer than 256 characters', async () => {
    for (const replacement of ['keyid=k1', 'keyid=""', `keyid="${'k'.repeat(257)}"`, 'keyid=1']) {
      expect(await reasonOf(withHeaders({ 'signature-input': SIGNATURE_INPUT.replace('keyid="k1"', replacement) }))).toBe('malformed');
    }
  });

  it('refuses covered header values that could add a line to the signature base', async () => {
    const added = signRequest(
      { method: 'GET', url: 'https://api.example.com/', headers: { 'x-note': 'fine' } },
      { keyId: 'k1', algorithm: 'hmac-sha256', key: SECRET, created: NOW, components: ['x-note'] },
    );
    const request = {
      method: 'GET',
      url: '/',
      headers: { host: 'api.example.com', 'x-note': 'fine\n"@method": GET', 'signature-input': added['Signature-Input'], signature: added.Signature },
    };
    // A line feed is folded into a space (RFC 9421 §2.1), so the value stays on its own line and simply does not verify.
    expect(await reasonOf(request)).toBe('bad_signature');
    for (const value of ['fine\r"@method": GET', 'fine\u0000', 'caf\u00e9', 'snow\u2603']) {
      expect(await reasonOf({ ...request, headers: { ...request.headers, 'x-note': value } })).toBe('malformed');
    }
  });

  it('refuses a request without a usable target or with a body of the wrong type', async () => {
    const request = validRequest();
    expect(await reasonOf({ ...request, url: 'not a url' })).toBe('malformed');
    expect(await reasonOf({ ...request, url: undefined as never })).toBe('malformed');
    expect(await reasonOf({ ...request, method: '' })).toBe('malformed');
    expect(await reasonOf({ ...request, body: { a: 1 } as never })).toBe('malformed');
    expect(await reasonOf(null as never)).toBe('malformed');
    expect(await reasonOf({ method: 'GET', url: '/', headers: null as never })).toBe('missing');
  });

  it('refuses a malformed Content-Digest', async () => {
    for (const digest of ['sha-256=abc', 'sha-256=:AAAA:', 'md5=:AAAA:', 'sha-256=(:AAAA:)', '']) {
      const reason = await reasonOf(withHeaders({ 'content-digest': digest }));
      expect(['malformed', 'digest_mismatch', 'bad_signature']).toContain(reason);
    }
  });

  it('never throws and never accepts, whatever the signature headers and body (property)', async () => {
    const headerText = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 120 }),
      fc.constantFrom(SIGNATURE_INPUT, validRequest().headers.signature!, 'sig1=:AAAA:', 'sig1=()', 'sig1=("@method");created=1;keyid="k1"'),
      fc.tuple(fc.constantFrom(SIGNATURE_INPUT), fc.nat(), fc.string({ maxLength: 3 })).map(([text, at, insert]) => text.slice(0, at % text.length) + insert + text.slice(at % text.length)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.option(headerText, { nil: undefined }),
        fc.option(headerText, { nil: undefined }),
        fc.option(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ maxLength: 64 })), { nil: undefined }),
        fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
        async (input, signature, body, url) => {
          const request = { method: 'POST', url: url ?? '/x?y=1', headers: { host: 'api.example.com', 'signature-input': input, signature } };
          const result = await verifier().verify(body === undefined ? request : { ...request, body });
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('never throws on arbitrary header bags and request shapes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (anything) => {
        const result = await verifier().verify(anything as SignatureRequest);
        expect(result.ok).toBe(false);
        const asHeaders = await verifier().verify({ method: 'GET', url: '/', headers: anything as Record<string, string> });
        expect(asHeaders.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
