import { generateApiKey } from 'bulwark/auth';
import fc from 'fast-check';
import type { RawRequest } from './raw-http.js';

/**
 * The hostile battery: for one route of a running gateway, requests that are each wrong in one way
 * — the path, the method, the framing, a header, the credential, the JSON, the encoding, the size,
 * the pace — and otherwise valid (real credentials, a body the route accepts), so that the one
 * defect is what the gateway has to catch. Hand-picked cases per category, plus generated ones
 * (fast-check, fixed seed: the same battery on every run).
 *
 * Every case must be refused with a 4xx problem+json and must never reach the upstream.
 */

export interface HostileCase {
  readonly category: 'path' | 'method' | 'framing' | 'header' | 'credential' | 'json' | 'encoding' | 'size' | 'slow' | 'generated';
  readonly name: string;
  readonly request: RawRequest;
}

/** What the generator knows of the route under test. */
export interface RouteUnderTest {
  readonly example: string;
  readonly name: string;
  readonly port: number;
  /** A path the route matches (`/v1/orders/probe`). */
  readonly path: string;
  /** Methods the route accepts (`undefined`: all). */
  readonly methods: readonly string[] | undefined;
  readonly authType: string;
  /** The header carrying API keys on apiKey routes. */
  readonly keyHeader: string;
  readonly bodyLimit: number;
  readonly safeJson: boolean;
  readonly validated: boolean;
  /** A body the route accepts, and its content type. */
  readonly validBody: { readonly text: string; readonly contentType: string };
  /** Headers every request carries (the load balancer's `X-Forwarded-Proto`). */
  readonly baseHeaders: readonly (readonly [string, string])[];
  /** Valid credentials for one request (fresh each call: signatures are single use). */
  credentials(method: string, path: string, body: string | undefined): Promise<(readonly [string, string])[]>;
  /** A key that exists but lacks the route's scopes (undefined when the route needs none). */
  readonly unscopedKey: string | undefined;
  /** A key that exists and was revoked. */
  readonly revokedKey: string;
  /** A real key of the pool, for mutations. */
  readonly sampleKey: string;
  /** Whether another route of the same config serves `method` on `path` (then it is not "not allowed"). */
  servedElsewhere(method: string, path: string): boolean;
}

type Header = readonly [string, string];

function head(method: string, target: string, headers: readonly Header[], version = 'HTTP/1.1'): Buffer {
  let text = `${method} ${target} ${version}\r\n`;
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}

function framing(route: RouteUnderTest): Header[] {
  return [['Host', `127.0.0.1:${route.port}`], ['Connection', 'close'], ...route.baseHeaders];
}

/** The method to use for bodies (POST when the route takes it), or undefined for read-only routes. */
export function bodyMethod(route: RouteUnderTest): string | undefined {
  if (route.methods === undefined) return 'POST';
  return route.methods.find((method) => method === 'POST' || method === 'PUT' || method === 'PATCH');
}

function readMethod(route: RouteUnderTest): string {
  if (route.methods === undefined || route.methods.includes('GET')) return 'GET';
  return route.methods[0] ?? 'GET';
}

/** A request with valid credentials and `mutate` applied to its parts. */
async function build(route: RouteUnderTest, options: { method?: string; target?: string; path?: string; body?: string | Buffer; contentType?: string; headers?: readonly Header[]; dropCredentials?: boolean; version?: string }): Promise<RawRequest> {
  const method = options.method ?? readMethod(route);
  const path = options.path ?? route.path;
  const bodyText = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : options.body.toString('latin1');
  const credentials = options.dropCredentials === true ? [] : await route.credentials(method, path, bodyText);
  const headers: Header[] = [...framing(route), ...credentials, ...(options.headers ?? [])];
  if (options.body !== undefined) {
    headers.push(['Content-Type', options.contentType ?? route.validBody.contentType]);
    headers.push(['Content-Length', String(Buffer.byteLength(options.body as string | Buffer, typeof options.body === 'string' ? 'utf8' : undefined))]);
  }
  return { head: head(method, options.target ?? path, headers, options.version), body: options.body === undefined ? [] : [options.body] };
}

const PATH_MUTATIONS: readonly [string, (path: string) => string][] = [
  ['dot-dot', (p) => `${p}/../../admin/keys`],
  ['encoded dot-dot', (p) => `${p}/%2e%2e/%2e%2e/admin`],
  ['mixed-case encoded dot-dot', (p) => `${p}/%2E%2e/x`],
  ['half-encoded dot-dot', (p) => `${p}/.%2e/x`],
  ['encoded slash', (p) => `${p}/a%2fb`],
  ['encoded backslash', (p) => `${p}/a%5cb`],
  ['raw backslash', (p) => `${p}/a\\b`],
  ['matrix dot-dot', (p) => `${p}/..;/admin`],
  ['encoded NUL', (p) => `${p}/%00`],
  ['NUL before extension', (p) => `${p}/x%00.json`],
  ['invalid escape', (p) => `${p}/%zz`],
  ['truncated escape', (p) => `${p}/%`],
  ['overlong UTF-8 dot-dot', (p) => `${p}/%c0%ae%c0%ae/`],
  ['invalid UTF-8', (p) => `${p}/%ff%fe`],
  ['double leading slash', (p) => `/${p}`],
  ['empty segment', (p) => `${p}//x`],
  ['dot segment', (p) => `${p}/./x`],
  ['trailing dot-dot', (p) => `${p}/x/..`],
  ['absolute-form target', (p) => `http://evil.example${p}`],
  ['asterisk-form target', () => '*'],
  ['prototype key in query', (p) => `${p}?__proto__[polluted]=1`],
  ['constructor.prototype in query', (p) => `${p}?constructor[prototype][polluted]=1`],
  ['nested prototype key in query', (p) => `${p}?a[__proto__][b]=1`],
  ['invalid escape in query', (p) => `${p}?a=%zz`],
  ['query beyond the header limit', (p) => `${p}?${'a=1&'.repeat(5000)}`],
  ['raw tab in the path', (p) => `${p}/\tx`],
  ['raw non-ASCII byte in the path', (p) => `${p}/\xe9`],
];

async function pathCases(route: RouteUnderTest): Promise<HostileCase[]> {
  const cases: HostileCase[] = [];
  for (const [name, mutate] of PATH_MUTATIONS) {
    cases.push({ category: 'path', name, request: await build(route, { target: mutate(route.path) }) });
  }
  return cases;
}

async function methodCases(route: RouteUnderTest): Promise<HostileCase[]> {
  const cases: HostileCase[] = [
    { category: 'method', name: 'unknown method', request: await build(route, { method: 'FOO' }) },
    { category: 'method', name: 'lower-case method', request: await build(route, { method: 'get' }) },
    { category: 'method', name: 'method with a space', request: { head: Buffer.from(`GE T ${route.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 'latin1') } },
    { category: 'method', name: 'HTTP/3.0 in the request line', request: await build(route, { version: 'HTTP/3.0' }) },
    { category: 'method', name: 'HTTP/2 preface on HTTP/1.1', request: { head: Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1') } },
    { category: 'method', name: 'garbage request line', request: { head: Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 'latin1') } },
  ];
  if (route.methods !== undefined) {
    const refused = ['DELETE', 'PUT', 'PATCH', 'POST', 'GET', 'TRACE'].filter((method) => !route.methods?.includes(method) && !route.servedElsewhere(method, route.path));
    for (const method of refused) cases.push({ category: 'method', name: `${method} on a route without it`, request: await build(route, { method }) });
  }
  return cases;
}

async function framingCases(route: RouteUnderTest): Promise<HostileCase[]> {
  const method = bodyMethod(route) ?? 'POST';
  const body = route.validBody.text;
  const credentials = await route.credentials(method, route.path, body);
  const base: Header[] = [...framing(route), ...credentials, ['Content-Type', route.validBody.contentType]];
  const raw = (name: string, headers: readonly Header[], pieces: readonly string[] = [body]): HostileCase => ({ category: 'framing', name, request: { head: head(method, route.path, [...base, ...headers]), body: pieces } });
  const length = String(Buffer.byteLength(body));
  return [
    raw('Content-Length and Transfer-Encoding together', [['Content-Length', length], ['Transfer-Encoding', 'chunked']], [`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`]),
    raw('two different Content-Length values', [['Content-Length', length], ['Content-Length', String(Number(length) + 1)]]),
    raw('non-numeric Content-Length', [['Content-Length', 'abc']]),
    raw('negative Content-Length', [['Content-Length', '-1']]),
    raw('hexadecimal Content-Length', [['Content-Length', `0x${Number(length).toString(16)}`]]),
    raw('Content-Length beyond 2^53', [['Content-Length', '99999999999999999999']]),
    raw('chunked not last', [['Transfer-Encoding', 'chunked, gzip']]),
    raw('unknown transfer coding', [['Transfer-Encoding', 'xchunked']]),
    raw('invalid chunk size', [['Transfer-Encoding', 'chunked']], ['zz\r\nabc\r\n0\r\n\r\n']),
    raw('chunk longer than its size', [['Transfer-Encoding', 'chunked']], [`2\r\n${body}\r\n0\r\n\r\n`]),
    raw('chunk extension of 20 KB', [['Transfer-Encoding', 'chunked']], [`${Buffer.byteLength(body).toString(16)};${'x'.repeat(20_000)}\r\n${body}\r\n0\r\n\r\n`]),
  ];
}

async function headerCases(route: RouteUnderTest): Promise<HostileCase[]> {
  const credentials = await route.credentials(readMethod(route), route.path, undefined);
  const rawHead = (name: string, text: string): HostileCase => {
    const lines = [...framing(route), ...credentials].map(([key, value]) => `${key}: ${value}\r\n`).join('');
    return { category: 'header', name, request: { head: Buffer.from(`${readMethod(route)} ${route.path} HTTP/1.1\r\n${lines}${text}\r\n`, 'latin1') } };
  };
  return [
    rawHead('obsolete line folding', 'X-Folded: a\r\n b\r\n'),
    rawHead('space in a header name', 'X Bad: 1\r\n'),
    rawHead('space before the colon', 'X-Bad : 1\r\n'),
    rawHead('NUL in a header value', 'X-Bad: a\x00b\r\n'),
    rawHead('bare CR in a header value', 'X-Bad: a\rb\r\n'),
    rawHead('header without a colon', 'X-Bad\r\n'),
    rawHead('empty header name', ': value\r\n'),
    rawHead('bare LF line ending', 'X-Bad: 1\n'),
    rawHead('one header of 20 KB', `X-Big: ${'a'.repeat(20_000)}\r\n`),
    rawHead('200 headers of 100 bytes', Array.from({ length: 200 }, (_, index) => `X-H${index}: ${'b'.repeat(100)}\r\n`).join('')),
    rawHead('control character in a header name', 'X-\x01Bad: 1\r\n'),
    rawHead('non-token character in a header name', 'X-Bad(): 1\r\n'),
  ];
}

/** A key of a real key's shape with one character changed (the checksum no longer matches). */
function mutateKey(key: string, at: number): string {
  const index = Math.max(8, Math.min(key.length - 1, at));
  const character = key[index] === 'A' ? 'B' : 'A';
  return `${key.slice(0, index)}${character}${key.slice(index + 1)}`;
}

async function credentialCases(route: RouteUnderTest): Promise<HostileCase[]> {
  const method = readMethod(route);
  const withHeaders = async (name: string, headers: readonly Header[]): Promise<HostileCase> => ({ category: 'credential', name, request: await build(route, { method, dropCredentials: true, headers }) });
  const cases: HostileCase[] = route.authType === 'none' ? [] : [await withHeaders('no credentials at all', [])];
  if (route.authType === 'apiKey') {
    const header = route.keyHeader;
    const key = route.sampleKey;
    cases.push(
      await withHeaders('empty key', [[header, '']]),
      await withHeaders('garbage key', [[header, 'not-a-key']]),
      await withHeaders('prefix only', [[header, 'bw_test_']]),
      await withHeaders('well-formed unknown key', [[header, generateApiKey('test')]]),
      await withHeaders('unknown key of another environment', [[header, generateApiKey('live')]]),
      await withHeaders('checksum broken in the middle', [[header, mutateKey(key, key.length >> 1)]]),
      await withHeaders('checksum broken at the end', [[header, mutateKey(key, key.length - 1)]]),
      await withHeaders('key truncated by one', [[header, key.slice(0, -1)]]),
      await withHeaders('key with one extra character', [[header, `${key}x`]]),
      await withHeaders('key of 10 KB', [[header, `bw_test_${'A'.repeat(10_000)}`]]),
      await withHeaders('homoglyph in the prefix', [[header, Buffer.from(`bw_t\u0435st_${key.slice(8)}`, 'utf8').toString('latin1')]]),
      await withHeaders('two keys in one header', [[header, `${key}, ${key}`]]),
      await withHeaders('the header twice', [[header, key], [header, key]]),
      await withHeaders('revoked key', [[header, route.revokedKey]]),
      await withHeaders('empty Bearer', [['Authorization', 'Bearer ']]),
      await withHeaders('Basic instead of Bearer', [['Authorization', `Basic ${Buffer.from(`user:${key}`).toString('base64')}`]]),
      await withHeaders('Bearer with trailing words', [['Authorization', `Bearer ${key} extra`]]),
      { category: 'credential', name: 'key in the query string (not a credential)', request: await build(route, { method, dropCredentials: true, target: `${route.path}?api_key=${encodeURIComponent(key)}` }) },
    );
    if (route.unscopedKey !== undefined) cases.push(await withHeaders('key without the route scope', [[header, route.unscopedKey]]));
  }
  if (route.authType === 'signature') {
    const valid = await route.credentials(method, route.path, undefined);
    const input = valid.find(([name]) => name.toLowerCase() === 'signature-input')?.[1] ?? '';
    const signature = valid.find(([name]) => name.toLowerCase() === 'signature')?.[1] ?? '';
    const created = Number(/created=(\d+)/.exec(input)?.[1] ?? 0);
    cases.push(
      await withHeaders('Signature without Signature-Input', [['Signature', signature]]),
      await withHeaders('Signature-Input without Signature', [['Signature-Input', input]]),
      await withHeaders('unparseable Signature-Input', [['Signature-Input', 'sig1=('], ['Signature', signature]]),
      await withHeaders('unparseable Signature', [['Signature-Input', input], ['Signature', 'sig1=:not base64:']]),
      await withHeaders('labels that do not match', [['Signature-Input', input.replace(/^[a-z0-9]+=/, 'other=')], ['Signature', signature]]),
      await withHeaders('unknown keyid', [['Signature-Input', input.replace(/keyid="[^"]*"/, 'keyid="nobody"')], ['Signature', signature]]),
      await withHeaders('algorithm switched to ed25519', [['Signature-Input', input.replace(/alg="[^"]*"/, 'alg="ed25519"')], ['Signature', signature]]),
      await withHeaders('created an hour ago', [['Signature-Input', input.replace(/created=\d+/, `created=${created - 3600}`)], ['Signature', signature]]),
      await withHeaders('created an hour ahead', [['Signature-Input', input.replace(/created=\d+/, `created=${created + 3600}`)], ['Signature', signature]]),
      await withHeaders('@path not covered', [['Signature-Input', input.replace(/"@path" ?/, '')], ['Signature', signature]]),
      await withHeaders('signature bytes flipped', [['Signature-Input', input], ['Signature', signature.replace(/:([A-Za-z0-9+/])/, (_, c: string) => `:${c === 'A' ? 'B' : 'A'}`)]]),
      await withHeaders('Signature-Input of 8 KB', [['Signature-Input', `${input};x="${'y'.repeat(8000)}"`], ['Signature', signature]]),
      await withHeaders('signed for another path', [...(await route.credentials(method, `${route.path}/other`, undefined))]),
    );
  }
  if (route.authType === 'webhook') {
    const body = route.validBody.text;
    const webhook = async (name: string, header: string, sentBody = body): Promise<HostileCase> => ({ category: 'credential', name, request: await build(route, { method: 'POST', body: sentBody, dropCredentials: true, headers: [['Stripe-Signature', header]] }) });
    const valid = (await route.credentials('POST', route.path, body))[0]?.[1] ?? '';
    const t = Number(/t=(\d+)/.exec(valid)?.[1] ?? 0);
    const v1 = /v1=([0-9a-f]+)/.exec(valid)?.[1] ?? '';
    cases.push(
      await webhook('unparseable Stripe-Signature', 't=abc,v1=xyz'),
      await webhook('timestamp only', `t=${t}`),
      await webhook('empty v1', `t=${t},v1=`),
      await webhook('signature of another secret', `t=${t},v1=${'0'.repeat(64)}`),
      await webhook('timestamp an hour old', valid.replace(/t=\d+/, `t=${t - 3600}`)),
      await webhook('timestamp an hour ahead', valid.replace(/t=\d+/, `t=${t + 3600}`)),
      await webhook('signature over another body', valid, `${body} `),
      await webhook('fifty wrong signatures', `t=${t},${Array.from({ length: 50 }, () => `v1=${'f'.repeat(64)}`).join(',')}`),
      await webhook('signature in upper case', `t=${t},v1=${v1.toUpperCase()}`),
      await webhook('header of 8 KB', `t=${t},v1=${'a'.repeat(8000)}`),
    );
  }
  return cases;
}

const INVALID_JSON: readonly [string, string | Buffer][] = [
  ['truncated object', '{"a":'],
  ['trailing garbage', '{"a":1}x'],
  ['two documents', '{"a":1}{"b":2}'],
  ['single quotes', "{'a':1}"],
  ['comment', '{/* c */"a":1}'],
  ['NaN literal', '{"a":NaN}'],
  ['leading zero', '{"a":01}'],
  ['raw control character in a string', '{"a":"x\x01y"}'],
  ['invalid UTF-8 in a string', Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])],
  ['overlong UTF-8 in a string', Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')])],
  ['UTF-16 body', Buffer.from('{"a":1}', 'utf16le')],
  ['XML instead of JSON', '<order><sku>A</sku></order>'],
  ['nesting 200 deep (arrays)', `${'['.repeat(200)}${']'.repeat(200)}`],
  ['nesting 200 deep (objects)', `${'{"a":'.repeat(200)}1${'}'.repeat(200)}`],
  ['__proto__ key', '{"__proto__":{"polluted":true}}'],
  ['nested __proto__ key', '{"a":{"b":{"__proto__":{"polluted":true}}}}'],
  ['constructor.prototype', '{"constructor":{"prototype":{"polluted":true}}}'],
  ['escaped __proto__ key', '{"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":true}}'],
  ['20,000 keys', `{${Array.from({ length: 20_000 }, (_, index) => `"k${index}":0`).join(',')}}`],
];

async function jsonCases(route: RouteUnderTest): Promise<HostileCase[]> {
  const method = bodyMethod(route);
  if (method === undefined || !route.safeJson) return [];
  const cases: HostileCase[] = [];
  for (const [name, body] of INVALID_JSON) {
    if (Buffer.byteLength(body) > route.bodyLimit) continue;
    cases.push({ category: 'json', name, request: await build(route, { method, body, contentType: 'application/json' }) });
  }
  if (route.validated) {
    for (const [name, body] of schemaViolations(route.name)) cases.push({ category: 'json', name: `schema: ${name}`, request: await build(route, { method, body, contentType: 'application/json' }) });
  }
  return cases;
}

/** Bodies that are valid JSON but break the route's declared schema (422). */
function schemaViolations(routeName: string): readonly [string, string][] {
  if (routeName === 'chat') {
    return [
      ['messages missing', '{}'],
      ['messages not an array', '{"messages":"hi"}'],
      ['messages empty', '{"messages":[]}'],
      ['101 messages', JSON.stringify({ messages: Array.from({ length: 101 }, () => ({ role: 'user', content: 'x' })) })],
      ['array instead of object', '[]'],
      ['null body', 'null'],
    ];
  }
  return [
    ['quantity missing', '{"sku":"A-1"}'],
    ['quantity zero', '{"sku":"A-1","quantity":0}'],
    ['quantity 1001', '{"sku":"A-1","quantity":1001}'],
    ['quantity as a string', '{"sku":"A-1","quantity":"2"}'],
    ['quantity fractional', '{"sku":"A-1","quantity":1.5}'],
    ['sku empty', '{"sku":"","quantity":1}'],
    ['sku of 65 characters', JSON.stringify({ sku: 'x'.repeat(65), quantity: 1 })],
    ['additional property', '{"sku":"A-1","quantity":1,"admin":true}'],
    ['array instead of object', '[]'],
    ['null body', 'null'],
  ];
}

async function encodingCases(route: RouteUnderTest): Promise<HostileCase[]> {
  const method = bodyMethod(route);
  if (method === undefined || !route.safeJson) return [];
  return [
    { category: 'encoding', name: 'charset utf-16 declared, UTF-16 sent', request: await build(route, { method, body: Buffer.from(route.validBody.text, 'utf16le'), contentType: 'application/json; charset=utf-16le' }) },
    { category: 'encoding', name: 'Latin-1 bytes declared as JSON', request: await build(route, { method, body: Buffer.from('{"a":"caf\xe9"}', 'latin1'), contentType: 'application/json' }) },
    { category: 'encoding', name: 'JSON body with a NUL byte', request: await build(route, { method, body: Buffer.from('{"a":1}\x00', 'latin1'), contentType: 'application/json' }) },
  ];
}

async function sizeCases(route: RouteUnderTest): Promise<HostileCase[]> {
  const method = bodyMethod(route) ?? 'POST';
  const credentials = await route.credentials(method, route.path, undefined);
  const headers = [...framing(route), ...credentials, ['Content-Type', route.validBody.contentType] as const];
  const cases: HostileCase[] = [
    { category: 'size', name: 'declared Content-Length one over the limit', request: { head: head(method, route.path, [...headers, ['Content-Length', String(route.bodyLimit + 1)]]), body: [route.validBody.text] } },
    { category: 'size', name: 'declared Content-Length of 1 TB', request: { head: head(method, route.path, [...headers, ['Content-Length', String(1 << 30) + '000']]), body: ['{'] } },
    { category: 'size', name: 'URL of 20 KB', request: await build(route, { target: `${route.path}/${'a'.repeat(20_000)}` }) },
  ];
  if (route.bodyLimit <= 1024 * 1024) {
    // Chunked (no declared length): counted as it arrives, stopped at the first chunk past the limit.
    const chunk = 'x'.repeat(64 * 1024);
    const count = Math.ceil((route.bodyLimit + 1) / chunk.length) + 1;
    const pieces = Array.from({ length: count }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    cases.push({ category: 'size', name: 'chunked body past the limit', request: { head: head(method, route.path, [...headers, ['Transfer-Encoding', 'chunked']]), body: [...pieces, '0\r\n\r\n'] } });
  }
  return cases;
}

async function slowCases(route: RouteUnderTest): Promise<HostileCase[]> {
  const method = bodyMethod(route);
  if (method === undefined) return [];
  const credentials = await route.credentials(method, route.path, undefined);
  const headers = [...framing(route), ...credentials, ['Content-Type', 'application/json'] as const];
  const trickle = (text: string): string[] => Array.from(text, (character) => character);
  const cases: HostileCase[] = [];
  if (route.safeJson) {
    const body = '{"a":[1,2,3],"b":}';
    cases.push({ category: 'slow', name: 'invalid JSON trickled a byte every 50 ms', request: { head: head(method, route.path, [...headers, ['Content-Length', String(body.length)]]), body: trickle(body), pauseMs: 50 } });
    const proto = '{"x":{"__proto__":{"p":1}}}';
    cases.push({ category: 'slow', name: 'prototype key trickled in chunks', request: { head: head(method, route.path, [...headers, ['Transfer-Encoding', 'chunked']]), body: [...trickle(proto).map((character) => `1\r\n${character}\r\n`), '0\r\n\r\n'], pauseMs: 30 } });
  }
  if (route.bodyLimit <= 1024 * 1024) {
    const chunk = 'y'.repeat(128 * 1024);
    const pieces = Array.from({ length: Math.ceil((route.bodyLimit + 1) / chunk.length) + 1 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    cases.push({ category: 'slow', name: 'oversized chunked body, slowly', request: { head: head(method, route.path, [...headers, ['Transfer-Encoding', 'chunked']]), body: pieces, pauseMs: 100 } });
  }
  return cases;
}

const HEADER_NAME_BREAKERS = ['(', ')', '<', '>', '@', ',', ';', '"', '/', '[', ']', '?', '=', '{', '}', '\x7f', '\x02'];

/** Generated cases (fast-check, fixed seed per route): broken header names, bad escapes, broken JSON, garbage keys. */
async function generatedCases(route: RouteUnderTest, seed: number, count: number): Promise<HostileCase[]> {
  const cases: HostileCase[] = [];
  const names = fc.sample(fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z-]{0,10}$/), fc.constantFrom(...HEADER_NAME_BREAKERS), fc.stringMatching(/^[A-Za-z-]{0,6}$/)), { seed, numRuns: count });
  for (const [before, breaker, after] of names) {
    cases.push({ category: 'generated', name: `header name with ${JSON.stringify(breaker)}`, request: await build(route, { headers: [[`${before}${breaker}${after}`, 'v']] }) });
  }
  const escapes = fc.sample(fc.array(fc.oneof(fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xf5, max: 0xff }), fc.constant(0xc0), fc.constant(0xc1)), { minLength: 1, maxLength: 4 }), { seed: seed + 1, numRuns: count });
  for (const bytes of escapes) {
    const escaped = bytes.map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
    cases.push({ category: 'generated', name: `invalid UTF-8 escape ${escaped}`, request: await build(route, { target: `${route.path}/${escaped}` }) });
  }
  const method = bodyMethod(route);
  if (method !== undefined && route.safeJson) {
    const valid = route.validBody.text;
    const breaks = fc
      .sample(fc.tuple(fc.integer({ min: 0, max: valid.length }), fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '\\', '\x01', 'x')), { seed: seed + 2, numRuns: count * 4 })
      .map(([at, character]) => `${valid.slice(0, at)}${character}${valid.slice(at)}`)
      .filter((text) => {
        try {
          JSON.parse(text);
          return false;
        } catch {
          return true;
        }
      })
      .slice(0, count);
    for (const body of breaks) cases.push({ category: 'generated', name: `broken JSON ${JSON.stringify(body).slice(0, 40)}`, request: await build(route, { method, body, contentType: 'application/json' }) });
  }
  if (route.authType === 'apiKey') {
    const garbage = fc.sample(fc.stringMatching(/^[A-Za-z0-9]{20,80}$/), { seed: seed + 3, numRuns: count });
    for (const tail of garbage) cases.push({ category: 'generated', name: 'random key of the right shape', request: await build(route, { dropCredentials: true, headers: [[route.keyHeader, `bw_test_${tail}`]] }) });
  }
  return cases;
}

/** Every case of the battery for one route. */
export async function hostileCases(route: RouteUnderTest, seed: number): Promise<HostileCase[]> {
  return [
    ...(await pathCases(route)),
    ...(await methodCases(route)),
    ...(await framingCases(route)),
    ...(await headerCases(route)),
    ...(await credentialCases(route)),
    ...(await jsonCases(route)),
    ...(await encodingCases(route)),
    ...(await sizeCases(route)),
    ...(await slowCases(route)),
    ...(await generatedCases(route, seed, 12)),
  ];
}
