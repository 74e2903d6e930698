import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createMemoryReplayStore } from './memory-replay-store.js';
import type { ReplayStore } from './replay-store.js';
import { createWebhookVerifier, type WebhookVerifierOptions } from './webhook-verifier.js';
import type { WebhookScheme } from './webhook-types.js';

const NOW = 1_700_000_000;
const STANDARD_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const STRIPE_SECRET = `whsec_${randomBytes(24).toString('hex')}`;
const GITHUB_SECRET = randomBytes(20).toString('hex');
const SECRETS: Record<WebhookScheme, string> = { standard: STANDARD_SECRET, stripe: STRIPE_SECRET, github: GITHUB_SECRET };
const BODY = '{"type":"invoice.paid","data":{"id":"in_1","amount":4200}}';
const stripe = new Stripe('sk_test_not_used_for_network');

let clock = NOW * 1000;
let replayStore: ReplayStore;
beforeEach(() => {
  clock = NOW * 1000;
  replayStore = createMemoryReplayStore({ now: () => clock });
});

function verifier(scheme: WebhookScheme, options: Partial<WebhookVerifierOptions> = {}) {
  return createWebhookVerifier({ scheme, secrets: [SECRETS[scheme]], replayStore, now: () => clock, registry: createMetricsRegistry({ defaultMetrics: false }), ...options });
}

/** Deliveries signed by the official libraries (Standard Webhooks, Stripe) or as GitHub documents it. */
function standardDelivery(id = `msg_${randomBytes(6).toString('hex')}`, timestamp = NOW, body = BODY, secret = STANDARD_SECRET) {
  const signature = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
  return { headers: { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature }, body: Buffer.from(body) };
}

function stripeDelivery(timestamp = NOW, body = BODY, secret = STRIPE_SECRET) {
  return { headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp }) }, body: Buffer.from(body) };
}

function githubDelivery(delivery: string = randomUUIDLike(), body = BODY, secret = GITHUB_SECRET) {
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return { headers: { 'x-hub-signature-256': signature, 'x-github-delivery': delivery, 'x-github-event': 'push' }, body: Buffer.from(body) };
}

function randomUUIDLike(): string {
  return `${randomBytes(4).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(6).toString('hex')}`;
}

async function reasonOf(promise: Promise<{ ok: boolean; reason?: string }>): Promise<string> {
  const result = await promise;
  return result.ok ? 'ok' : (result.reason ?? '');
}

describe('Standard Webhooks', () => {
  it('verifies a delivery signed by the standardwebhooks package', async () => {
    const delivery = standardDelivery('msg_1');
    expect(await verifier('standard').verify(delivery)).toEqual({ ok: true, scheme: 'standard', id: 'msg_1', timestamp: NOW });
  });

  it('verifies a v1a (ed25519) signature with the whpk_ public key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'jwk' }).x!;
    const whpk = `whpk_${Buffer.from(raw, 'base64url').toString('base64')}`;
    const signature = sign(null, Buffer.from(`msg_ed.${NOW}.${BODY}`), privateKey).toString('base64');
    const delivery = { headers: { 'webhook-id': 'msg_ed', 'webhook-timestamp': String(NOW), 'webhook-signature': `v1a,${signature}` }, body: BODY };
    expect(await verifier('standard', { secrets: [whpk] }).verify(delivery)).toMatchObject({ ok: true, id: 'msg_ed' });
    expect(await reasonOf(verifier('standard', { secrets: [whpk] }).verify({ ...delivery, body: `${BODY} ` }))).toBe('bad_signature');
  });

  it('accepts any of several signatures and any of several secrets (rotation)', async () => {
    const next = `whsec_${randomBytes(32).toString('base64')}`;
    const delivery = standardDelivery('msg_rot', NOW, BODY, next);
    const headers = { ...delivery.headers, 'webhook-signature': `v1,${randomBytes(32).toString('base64')} ${delivery.headers['webhook-signature']}` };
    expect(await reasonOf(verifier('standard', { secrets: [STANDARD_SECRET, next] }).verify({ ...delivery, headers }))).toBe('ok');
  });

  it('refuses a replayed message id, even with a fresh signature', async () => {
    expect(await reasonOf(verifier('standard').verify(standardDelivery('msg_r')))).toBe('ok');
    clock += 10_000;
    expect(await reasonOf(verifier('standard').verify(standardDelivery('msg_r', NOW + 10)))).toBe('replayed');
  });

  it('accepts the retry of a delivery it was told to forget (the handler failed), once', async () => {
    const standard = verifier('standard');
    const first = await standard.verify(standardDelivery('msg_retry'));
    expect(first.ok).toBe(true);
    if (first.ok) await standard.forget(first);
    clock += 10_000;
    // The sender's retry: same message id, a new timestamp and signature.
    const retried = await standard.verify(standardDelivery('msg_retry', NOW + 10));
    expect(retried.ok).toBe(true);
    expect(await reasonOf(standard.verify(standardDelivery('msg_retry', NOW + 20)))).toBe('replayed');
    // A GitHub redelivery is the same body: forgotten, it passes too.
    const github = verifier('github');
    const delivery = githubDelivery();
    const accepted = await github.verify(delivery);
    if (accepted.ok) await github.forget(accepted);
    expect(await reasonOf(github.verify({ ...delivery, headers: { ...delivery.headers, 'x-github-delivery': randomUUIDLike() } }))).toBe('ok');
    // Only its own results: anything else is a programming error.
    await expect(standard.forget({ ok: true, scheme: 'standard', id: 'msg_retry' })).rejects.toThrow(TypeError);
  });

  it('keeps the deliveries of two endpoints of one scheme apart with replayNamespace', async () => {
    const repositoryHook = verifier('github', { replayNamespace: 'webhook:github:repository' });
    const organisationHook = verifier('github', { replayNamespace: 'webhook:github:organisation' });
    const push = githubDelivery();
    expect(await reasonOf(repositoryHook.verify(push))).toBe('ok');
    expect(await reasonOf(organisationHook.verify(push))).toBe('ok');
    expect(await reasonOf(organisationHook.verify(push))).toBe('replayed');
    // Without it, both share `webhook:github`: the second endpoint's copy is refused.
    expect(await reasonOf(verifier('github').verify(push))).toBe('ok');
    expect(await reasonOf(verifier('github').verify(push))).toBe('replayed');
    expect(() => verifier('github', { replayNamespace: '' })).toThrow(/replayNamespace/);
  });

  it('refuses timestamps beyond the tolerance in both directions', async () => {
    expect(await reasonOf(verifier('standard').verify(standardDelivery(undefined, NOW - 300)))).toBe('ok');
    expect(await reasonOf(verifier('standard').verify(standardDelivery(undefined, NOW + 300)))).toBe('ok');
    expect(await reasonOf(verifier('standard').verify(standardDelivery(undefined, NOW - 301)))).toBe('expired');
    expect(await reasonOf(verifier('standard').verify(standardDelivery(undefined, NOW + 301)))).toBe('future');
    expect(await reasonOf(verifier('standard', { toleranceSeconds: 10 }).verify(standardDelivery(undefined, NOW - 11)))).toBe('expired');
  });

  it('refuses a re-serialised body: whitespace and key order are part of what was signed', async () => {
    const delivery = standardDelivery('msg_json', NOW, '{"b": 1, "a": 2}');
    expect(await reasonOf(verifier('standard').verify({ ...delivery, body: JSON.stringify(JSON.parse('{"b": 1, "a": 2}')) }))).toBe('bad_signature');
    expect(await reasonOf(verifier('standard').verify(delivery))).toBe('ok');
  });

  it.each([
    ['extra spaces between signatures', (s: string) => `${s}  ${s}`],
    ['a leading space', (s: string) => ` ${s}`],
    ['a missing version', (s: string) => s.slice(3)],
    ['a missing signature', () => 'v1,'],
    ['bad base64', (s: string) => `${s.slice(0, -2)}*=`],
    ['only unknown versions', (s: string) => s.replace('v1,', 'v9,')],
    ['more than ten signatures', (s: string) => Array.from({ length: 11 }, () => s).join(' ')],
  ])('reports %s as malformed', async (_label, mutate) => {
    const delivery = standardDelivery();
    const headers = { ...delivery.headers, 'webhook-signature': mutate(delivery.headers['webhook-signature']) };
    expect(await reasonOf(verifier('standard').verify({ ...delivery, headers }))).toBe('malformed');
  });

  it('reports missing and malformed id and timestamp headers as values', async () => {
    const { headers, body } = standardDelivery();
    expect(await reasonOf(verifier('standard').verify({ headers: {}, body }))).toBe('missing');
    for (const changed of [
      { 'webhook-id': undefined },
      { 'webhook-timestamp': undefined },
      { 'webhook-timestamp': `${NOW}.0` },
      { 'webhook-timestamp': ` ${NOW}` },
      { 'webhook-timestamp': '1e9' },
      { 'webhook-id': 'has space' },
      { 'webhook-id': 'x'.repeat(257) },
      { 'webhook-id': ['msg_1', 'msg_2'] },
      { 'webhook-signature': [headers['webhook-signature'], headers['webhook-signature']] },
      { 'webhook-signature': `v1,${'A'.repeat(8192)}` },
    ]) {
      expect(await reasonOf(verifier('standard').verify({ headers: { ...headers, ...changed }, body }))).toBe('malformed');
    }
  });

  it('validates secrets when created', () => {
    expect(() => verifier('standard', { secrets: ['whsec_not base64!'] })).toThrow(/base64/);
    expect(() => verifier('standard', { secrets: [`whsec_${randomBytes(8).toString('base64')}`] })).toThrow(/24 bytes/);
    expect(() => verifier('standard', { secrets: [`whsk_${randomBytes(64).toString('base64')}`] })).toThrow(/public key/);
    expect(() => verifier('standard', { secrets: [`whpk_${randomBytes(31).toString('base64')}`] })).toThrow(/32-byte/);
  });
});

describe('Stripe', () => {
  it('verifies a header produced by stripe.webhooks.generateTestHeaderString', async () => {
    expect(await verifier('stripe').verify(stripeDelivery())).toEqual({ ok: true, scheme: 'stripe', timestamp: NOW });
  });

  it('accepts any v1 entry and any configured secret during a roll', async () => {
    const next = `whsec_${randomBytes(24).toString('hex')}`;
    const old = stripeDelivery(NOW, BODY, STRIPE_SECRET).headers['stripe-signature'];
    const fresh = stripeDelivery(NOW, BODY, next).headers['stripe-signature'];
    const combined = `${fresh},${old.slice(old.indexOf('v1='))},v0=${'0'.repeat(64)}`;
    expect(await reasonOf(verifier('stripe').verify({ headers: { 'stripe-signature': combined }, body: BODY }))).toBe('ok');
  });

  it('refuses the same delivery twice and a tampered body', async () => {
    const delivery = stripeDelivery();
    expect(await reasonOf(verifier('stripe').verify(delivery))).toBe('ok');
    expect(await reasonOf(verifier('stripe').verify(delivery))).toBe('replayed');
    expect(await reasonOf(verifier('stripe').verify({ ...stripeDelivery(NOW + 1), body: BODY.replace('4200', '1') }))).toBe('bad_signature');
  });

  it('refuses a replay that drops one of the v1 entries of a delivery signed during a roll', async () => {
    const next = `whsec_${randomBytes(24).toString('hex')}`;
    const old = stripeDelivery(NOW, BODY, STRIPE_SECRET).headers['stripe-signature'];
    const fresh = stripeDelivery(NOW, BODY, next).headers['stripe-signature'];
    const both = `${old},${fresh.slice(fresh.indexOf('v1='))}`;
    const rolling = verifier('stripe', { secrets: [STRIPE_SECRET, next] });
    expect(await reasonOf(rolling.verify({ headers: { 'stripe-signature': both }, body: BODY }))).toBe('ok');
    // The same delivery (same t, same body) under the other secret's signature alone is a replay.
    expect(await reasonOf(rolling.verify({ headers: { 'stripe-signature': fresh }, body: BODY }))).toBe('replayed');
    expect(await reasonOf(rolling.verify({ headers: { 'stripe-signature': old }, body: BODY }))).toBe('replayed');
  });

  it('refuses timestamps beyond the tolerance in both directions', async () => {
    expect(await reasonOf(verifier('stripe').verify(stripeDelivery(NOW - 301)))).toBe('expired');
    expect(await reasonOf(verifier('stripe').verify(stripeDelivery(NOW + 301)))).toBe('future');
  });

  it.each([
    ['a space after a comma', (h: string) => h.replace(',', ', ')],
    ['no timestamp', (h: string) => h.replace(/^t=\d+,/, '')],
    ['two timestamps', (h: string) => `t=${NOW},${h}`],
    ['no v1', (h: string) => h.replace('v1=', 'v0=')],
    ['an empty entry', (h: string) => `${h},`],
    ['a truncated signature', (h: string) => h.slice(0, -1)],
    ['upper-case hex', (h: string) => h.toUpperCase().replace('T=', 't=').replace('V1=', 'v1=')],
    ['a decimal timestamp', (h: string) => h.replace(`t=${NOW}`, `t=${NOW}.5`)],
    ['a huge header', (h: string) => `${h},x=${'a'.repeat(5000)}`],
    ['an empty header', () => ''],
  ])('reports %s as malformed', async (_label, mutate) => {
    const delivery = stripeDelivery();
    expect(await reasonOf(verifier('stripe').verify({ ...delivery, headers: { 'stripe-signature': mutate(delivery.headers['stripe-signature']) } }))).toBe('malformed');
  });

  it('validates secrets when created', () => {
    expect(() => verifier('stripe', { secrets: ['whsec_short'] })).toThrow(TypeError);
    expect(() => verifier('stripe', { secrets: [`whsec_${'a'.repeat(20)} `] })).toThrow(/whitespace/);
  });
});

describe('GitHub', () => {
  it('verifies X-Hub-Signature-256 over the raw body', async () => {
    expect(await verifier('github').verify(githubDelivery('72d3162e-cc78-11e3-81ab-4c9367dc0958'))).toEqual({ ok: true, scheme: 'github', id: '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
  });

  it('refuses a repeated X-GitHub-Delivery (no timestamp: the replay cache is the only defence)', async () => {
    const delivery = githubDelivery();
    expect(await reasonOf(verifier('github').verify(delivery))).toBe('ok');
    clock += 3_600_000;
    expect(await reasonOf(verifier('github').verify(delivery))).toBe('replayed');
  });

  it('refuses a replayed delivery whose unsigned X-GitHub-Delivery was changed', async () => {
    const delivery = githubDelivery();
    expect(await reasonOf(verifier('github').verify(delivery))).toBe('ok');
    const renamed = { ...delivery, headers: { ...delivery.headers, 'x-github-delivery': randomUUIDLike() } };
    expect(await reasonOf(verifier('github').verify(renamed))).toBe('replayed');
  });

  it('refuses a wrong secret and a changed body', async () => {
    expect(await reasonOf(verifier('github').verify(githubDelivery(undefined, BODY, 'another-secret-of-enough-length')))).toBe('bad_signature');
    expect(await reasonOf(verifier('github').verify({ ...githubDelivery(), body: `${BODY}\n` }))).toBe('bad_signature');
  });

  it('reports malformed signature and delivery headers as values', async () => {
    const { headers, body } = githubDelivery();
    expect(await reasonOf(verifier('github').verify({ headers: {}, body }))).toBe('missing');
    for (const changed of [
      { 'x-hub-signature-256': headers['x-hub-signature-256'].replace('sha256=', 'sha1=') },
      { 'x-hub-signature-256': ` ${headers['x-hub-signature-256']}` },
      { 'x-hub-signature-256': headers['x-hub-signature-256'].slice(0, -2) },
      { 'x-hub-signature-256': 'sha256=' },
      { 'x-github-delivery': undefined },
      { 'x-github-delivery': 'id with spaces' },
      { 'x-github-delivery': 'x'.repeat(129) },
      { 'x-hub-signature-256': [headers['x-hub-signature-256'], headers['x-hub-signature-256']] },
    ]) {
      expect(await reasonOf(verifier('github').verify({ headers: { ...headers, ...changed }, body }))).toBe('malformed');
    }
  });
});

describe('createWebhookVerifier', () => {
  it.each(['standard', 'stripe', 'github'] as const)('throws a TypeError when the %s body is a parsed object instead of raw bytes', (scheme) => {
    expect(() => verifier(scheme).verify({ headers: {}, body: JSON.parse(BODY) as never })).toThrow(/raw bytes/);
    expect(() => verifier(scheme).verify({ headers: {}, body: undefined as never })).toThrow(TypeError);
  });

  it('accepts the body as a Buffer, a Uint8Array or a string', async () => {
    for (const body of [Buffer.from(BODY), new Uint8Array(Buffer.from(BODY)), BODY]) {
      // A fresh replay store each time: the same body twice is a replay, whatever its type.
      const fresh = createMemoryReplayStore({ now: () => clock });
      expect(await reasonOf(verifier('github', { replayStore: fresh }).verify({ ...githubDelivery(), body }))).toBe('ok');
    }
  });

  it('fails closed with unavailable when the replay store fails', async () => {
    const broken: ReplayStore = { checkAndStore: () => Promise.reject(new Error('down')), release: () => Promise.reject(new Error('down')) };
    expect(await reasonOf(verifier('standard', { replayStore: broken }).verify(standardDelivery()))).toBe('unavailable');
  });

  it('counts failures under a bounded scheme label', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    await verifier('stripe', { registry }).verify({ headers: {}, body: BODY });
    const failures = await registry.getSingleMetric('auth_failures_total')!.get();
    expect(failures.values).toEqual([expect.objectContaining({ labels: { scheme: 'webhook_stripe', reason: 'missing' }, value: 1 })]);
  });

  it('validates its options once', () => {
    const base = { secrets: [GITHUB_SECRET], replayStore: createMemoryReplayStore() };
    expect(() => createWebhookVerifier({ ...base, scheme: 'paypal' as never })).toThrow(/scheme/);
    expect(() => createWebhookVerifier({ ...base, scheme: 'github', secrets: [] })).toThrow(/secrets/);
    expect(() => createWebhookVerifier({ ...base, scheme: 'github', secrets: Array.from({ length: 6 }, () => GITHUB_SECRET) })).toThrow(/secrets/);
    expect(() => createWebhookVerifier({ ...base, scheme: 'github', secrets: ['short'] })).toThrow(/16 characters/);
    expect(() => createWebhookVerifier({ ...base, scheme: 'github', toleranceSeconds: 0 })).toThrow(/toleranceSeconds/);
    expect(() => createWebhookVerifier({ scheme: 'github', secrets: [GITHUB_SECRET] } as unknown as WebhookVerifierOptions)).toThrow(/replayStore/);
  });

  it.each(['standard', 'stripe', 'github'] as const)('never throws and never accepts arbitrary %s headers (property)', async (scheme) => {
    const names = ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'stripe-signature', 'x-hub-signature-256', 'x-github-delivery'];
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...names), fc.oneof(fc.string({ maxLength: 120 }), fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }))),
        fc.oneof(fc.string({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 })),
        async (headers, body) => {
          const result = await verifier(scheme).verify({ headers, body });
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
