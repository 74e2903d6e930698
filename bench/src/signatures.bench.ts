/**
 * RFC 9421 request signature verification: Bulwark's verifier against `http-message-signatures`
 * (the maintained npm implementation) on the same signed request.
 *
 *   npm run bench -- signatures
 *
 * The request: `POST https://api.example.com/v1/orders?limit=10` with a 1 KB JSON body, signed
 * with hmac-sha256 over `@method @authority @path @query content-digest` with `created`, `keyid`
 * and `alg`. Nonce checking is off for both (no store), so what is measured is parsing, building
 * the signature base, the HMAC, the compare and — for Bulwark — recomputing `Content-Digest` from
 * the body. `http-message-signatures` does not check the digest against the body, so it is shown
 * twice: alone, and with the check a user must add (SHA-256 of the body compared with the header),
 * which is the like-for-like row. The floor is one HMAC-SHA256 of 1 KB plus `timingSafeEqual`.
 *
 * Per-call cost is process CPU time over batches of awaited calls, best of interleaved rounds (the
 * machine is shared by other jobs; wall-clock figures would measure them). Target: ≥ 2× the
 * like-for-like peer row.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createVerifier as peerVerifier, httpbis } from 'http-message-signatures';
import { checkContentDigest, createSignatureVerifier, hmacSignatureKey, signRequest } from 'bulwark/auth';
import { createMetricsRegistry } from 'bulwark/observability';
import { machineLine, measureCpuPerCall, table, versionOf } from './support/report.js';
import type { Row } from './support/report.js';

const BATCH = 500;
const ROUNDS = 7;
const TARGET_CPU_MS = 120;

/** Per-call CPU cost of each task (one task call = {@link BATCH} awaited calls), best of {@link ROUNDS} interleaved rounds. */
function perCall(tasks: Record<string, () => Promise<unknown>>): Promise<Row[]> {
  return measureCpuPerCall(tasks, { batch: BATCH, rounds: ROUNDS, targetCpuMs: TARGET_CPU_MS, unit: 'µs' });
}


const batch = (fn: () => unknown) => async (): Promise<void> => {
  for (let i = 0; i < BATCH; i += 1) await fn();
};

// --- the request, signed once ------------------------------------------------------------------
const secret = randomBytes(32);
const url = 'https://api.example.com/v1/orders?limit=10';
const body = Buffer.from(JSON.stringify({ items: Array.from({ length: 14 }, (_, index) => ({ sku: `SKU-${1000 + index}`, qty: index + 1, note: 'x'.repeat(30) })) }).slice(0, 1024));
const created = Math.floor(Date.now() / 1000);
const signed = signRequest({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body }, { keyId: 'bench', algorithm: 'hmac-sha256', key: secret, nonce: false, created });
const headers: Record<string, string> = {
  host: 'api.example.com',
  'content-type': 'application/json',
  'content-length': String(body.byteLength),
  'content-digest': signed['Content-Digest']!,
  'signature-input': signed['Signature-Input'],
  signature: signed.Signature,
};

// --- Bulwark -------------------------------------------------------------------------------------
const key = hmacSignatureKey('bench', secret);
const verifier = createSignatureVerifier({
  keys: (keyId) => (keyId === 'bench' ? key : undefined),
  requireNonce: false,
  now: () => created * 1000,
  registry: createMetricsRegistry({ defaultMetrics: false }),
});
const request = { method: 'POST', url: '/v1/orders?limit=10', headers, body };
const ours = async () => {
  const result = await verifier.verify(request);
  if (!result.ok) throw new Error(`bulwark refused the benchmark request: ${result.reason}`);
};

// --- http-message-signatures -------------------------------------------------------------------------
const peerKey = { id: 'bench', algs: ['hmac-sha256'], verify: peerVerifier(secret, 'hmac-sha256') };
const peerConfig = { keyLookup: async () => peerKey, requiredFields: ['@method', '@authority', '@path', '@query', 'content-digest'] };
const peerMessage = { method: 'POST', url, headers };
const peer = async () => {
  if ((await httpbis.verifyMessage(peerConfig, peerMessage)) !== true) throw new Error('http-message-signatures refused the benchmark request');
};
/** What a user of the peer writes to bind the body: SHA-256 of the bytes against the header. */
const expectedDigestPrefix = 'sha-256=:';
const peerWithDigest = async () => {
  await peer();
  const header = headers['content-digest']!;
  const claimed = Buffer.from(header.slice(expectedDigestPrefix.length, -1), 'base64');
  const actual = createHash('sha256').update(body).digest();
  if (claimed.length !== actual.length || !timingSafeEqual(claimed, actual)) throw new Error('digest mismatch');
};

// --- the floor -------------------------------------------------------------------------------------
const expectedMac = createHmac('sha256', secret).update(body).digest();
const floor = () => timingSafeEqual(createHmac('sha256', secret).update(body).digest(), expectedMac);

// Every task must accept the request before it is timed.
await ours();
await peerWithDigest();
if (checkContentDigest(headers['content-digest']!, body) !== 'match' || !floor()) throw new Error('benchmark set-up is wrong');

const rows = await perCall({
  'bulwark createSignatureVerifier (digest recomputed)': batch(ours),
  'http-message-signatures verifyMessage + digest check': batch(peerWithDigest),
  'http-message-signatures verifyMessage (no digest check)': batch(peer),
  'floor: HMAC-SHA256 of 1 KB + timingSafeEqual': batch(floor),
});

const oursRow = rows[0]!;
const fairPeer = rows[1]!;
const barePeer = rows[2]!;
const ratio = oursRow.opsPerSecond / fairPeer.opsPerSecond;
const lines = [
  '## RFC 9421 signature verification (hmac-sha256, 1 KB body, Content-Digest covered)',
  '',
  '`npm run bench -- signatures`',
  '',
  machineLine(),
  '',
  `Peers: http-message-signatures ${versionOf('http-message-signatures')}, structured-headers ${versionOf('structured-headers')}. Nonce checking off for both. CPU time per call, best of ${ROUNDS} interleaved rounds.`,
  '',
  table(rows, 'http-message-signatures verifyMessage + digest check'),
  '',
  `Verdict: Bulwark verifies ${ratio.toFixed(2)}× as many requests per CPU second as http-message-signatures with the same digest check (${(oursRow.opsPerSecond / barePeer.opsPerSecond).toFixed(2)}× the peer without it) — target ≥ 2×: ${ratio >= 2 ? 'met' : 'NOT met'}.`,
  '',
];
process.stdout.write(lines.join('\n'));
