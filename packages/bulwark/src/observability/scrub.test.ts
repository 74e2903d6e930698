import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSecretKeyMatcher } from './redact-keys.js';
import { scrubSecrets } from './scrub.js';
import { escapeControlCharacters, isLuhnValid, truncate } from './text.js';

const isSecretKey = createSecretKeyMatcher(['x-tenant-secret']);
const scrub = (text: string): string => scrubSecrets(text, isSecretKey);
const scrubLine = (line: string): string => scrubSecrets(line, isSecretKey, true);

describe('scrubSecrets: credentials in text', () => {
  it.each([
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'Authorization: Bearer [REDACTED]'],
    ['header was bearer 7f3c9a1e5b2d8f4a6c0e9b7d', 'header was bearer [REDACTED]'],
    ['BEARER ABCDEFGHIJKLMNOP', 'BEARER [REDACTED]'],
    ['Basic dXNlcjpwYXNzd29yZA==', 'Basic [REDACTED]'],
    ['key bw_live_7Hq2mK9xPz4LwR8sT3vY6nB1cD5fG0jA', 'key [REDACTED]'],
    ['secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'secret [REDACTED]'],
    ['stripe sk_live_51HqLyjWDarjtT1zdp7dc and sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'stripe [REDACTED] and [REDACTED]'],
    ['restricted rk_live_abcdefgh12345678', 'restricted [REDACTED]'],
    ['REDIS_URL=redis://default:p4ss@w0rd@cache.internal:6379/0', 'REDIS_URL=redis://default:[REDACTED]@cache.internal:6379/0'],
    ['postgres://:onlypass@db/app', 'postgres://:[REDACTED]@db/app'],
    ['token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'token [REDACTED]'],
    ['card 4111 1111 1111 1111 declined', 'card [REDACTED] declined'],
    ['card 4111-1111-1111-1111', 'card [REDACTED]'],
    ['amex 378282246310005', 'amex [REDACTED]'],
    ['ssn 123-45-6789 on file', 'ssn [REDACTED] on file'],
    ['GET /cb?code=abc&access_token=ya29.a0AfH6SM&state=xyz', 'GET /cb?code=abc&access_token=[REDACTED]&state=xyz'],
    ['password=hunter2; user=ann', 'password=[REDACTED]; user=ann'],
    ['X-Tenant-Secret=abc123', 'X-Tenant-Secret=[REDACTED]'],
    ['body {"user":"ann","password":"hunter2","n":1}', 'body {"user":"ann","password":"[REDACTED]","n":1}'],
  ])('scrubs %j', (input, expected) => {
    expect(scrub(input)).toBe(expected);
  });

  it.each([
    'Basic authentication failed',
    'Bearer token required',
    'request 01964f2c-7b0e-7c3a-9f5e-3d2a1b0c9d8e done',
    'at 2024-01-15T10:00:00.000Z from 203.0.113.42',
    'time 1700000000000 and id 1234567890123',
    'order 4111111111111112 (fails Luhn)',
    'ssn-shaped 000-12-3456 and 666-12-3456 and 912-12-3456',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
    'mail ann@example.com about https://example.com/x',
    'key_2xY7pQ9r and my_bw_value',
    'short',
    '/search?q=password&page=2',
  ])('leaves %j alone', (input) => {
    expect(scrub(input)).toBe(input);
  });

  it('returns the same string instance when nothing matched (no copy)', () => {
    const text = `plain text ${'x'.repeat(50)}`;
    expect(scrub(text)).toBe(text);
  });
});

describe('scrubSecrets: the cheap triggers never hide a credential', () => {
  it.each([
    ['bw_live_7Hq2mK9xPz4LwR8sT3vY6nB1cD5fG0jA at the start', '[REDACTED] at the start'],
    ['snake_case_key=1 then sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'snake_case_key=1 then [REDACTED]'],
    ['my_whsec_ no, whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw yes', 'my_whsec_ no, [REDACTED] yes'],
    ['a_b c_d rk_test_abcdefgh12345678', 'a_b c_d [REDACTED]'],
    ['bb BB bEaReR abcdefghijklmnop', 'bb BB bEaReR [REDACTED]'],
  ])('scrubs %j', (input, expected) => {
    expect(scrub(input)).toBe(expected);
  });

  it('scrubs card numbers and SSNs right after the timestamp of a pino line, but not the timestamp', () => {
    const line = '{"level":30,"time":1700000000000,"ssn":"123-45-6789","pan":"4111111111111111"}';
    expect(JSON.parse(scrubLine(line))).toEqual({ level: 30, time: 1700000000000, ssn: '[REDACTED]', pan: '[REDACTED]' });
  });

  it('redacts a credential wherever it sits among underscores, spaces, b/B letters and digits (property)', () => {
    const noise = fc.array(fc.constantFrom('_', ' ', 'b', 'B', 'r ', 'c ', 'k_', 'w_', 'eyJ', '1234', '-', '=', 'a'), { maxLength: 20 }).map((parts) => parts.join(''));
    const credential = fc.constantFrom(
      ['Bearer ', 'abcdefghijklmnop'],
      ['bAsIc ', 'dXNlcjpwYXNzd29yZA'],
      ['', 'bw_live_7Hq2mK9xPz4LwR8sT3vY6nB1cD5fG0jA'],
      ['', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      ['', 'sk_live_51HqLyjWDarjtT1zdp7dc'],
      ['', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl'],
      ['token=', 'abcdef123456'],
    );
    fc.assert(
      fc.property(noise, credential, noise, (before, [prefix, secret], after) => {
        const text = `${before} ${prefix}${secret} ${after}`;
        expect(scrub(text)).not.toContain(secret);
        expect(scrubLine(JSON.stringify({ msg: text }))).not.toContain(secret);
      }),
      { numRuns: 500 },
    );
  });
});

describe('scrubSecrets: serialised JSON lines', () => {
  it('scrubs inside strings and keeps the line valid JSON', () => {
    const record = { msg: 'login with Bearer abcdefghijklmnop', url: '/x?token=abc"def', db: 'redis://u:pw@h', body: '{"password":"a\\"b"}', pan: '4111111111111111' };
    const out = scrubLine(JSON.stringify(record));
    const parsed = JSON.parse(out) as Record<string, string>;
    expect(parsed.msg).toBe('login with Bearer [REDACTED]');
    expect(parsed.url).toBe('/x?token=[REDACTED]"def');
    expect(parsed.db).toBe('redis://u:[REDACTED]@h');
    expect(parsed.body).not.toContain('"password":"a');
    expect(parsed.pan).toBe('[REDACTED]');
  });

  it('leaves card-like numbers outside strings alone (they are numbers, not text)', () => {
    const line = '{"level":30,"time":1700000000000,"n":4111111111111111,"s":"4111111111111111"}';
    expect(JSON.parse(scrubLine(line))).toEqual({ level: 30, time: 1700000000000, n: 4111111111111111, s: '[REDACTED]' });
  });

  it('scrubs a key=value secret that follows an escaped newline', () => {
    const line = JSON.stringify({ msg: 'line one\ntoken=abcdef' });
    expect(JSON.parse(scrubLine(line))).toEqual({ msg: 'line one\ntoken=[REDACTED]' });
  });

  it('scrubs a credential that follows an escaped newline, tab or control character', () => {
    const record = {
      jwt: 'token:\neyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl',
      bearer: 'header\tBearer abcdefghijklmnop',
      key: 'key:\nsk_live_51HqLyjWDarjtT1zdp7dc',
      webhook: 'x\u000bwhsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      table: 'name\tcard\nann\t4111111111111111',
      ssn: 'ssn:\n123-45-6789',
    };
    expect(JSON.parse(scrubLine(JSON.stringify(record)))).toEqual({
      jwt: 'token:\n[REDACTED]',
      bearer: 'header\tBearer [REDACTED]',
      key: 'key:\n[REDACTED]',
      webhook: 'x\u000b[REDACTED]',
      table: 'name\tcard\nann\t[REDACTED]',
      ssn: 'ssn:\n[REDACTED]',
    });
  });

  it('scrubs all of an embedded secret value that contains an escaped quote', () => {
    const line = JSON.stringify({ body: '{"password":"ab\\"cdefgh","user":"ann"}' });
    expect(JSON.parse(scrubLine(line))).toEqual({ body: '{"password":"[REDACTED]","user":"ann"}' });
  });

  it('scrubs a key=value secret that follows a literal backslash', () => {
    const text = 'C:\\app\\password=hunter2abc';
    expect(scrub(text)).toBe('C:\\app\\password=[REDACTED]');
    expect(JSON.parse(scrubLine(JSON.stringify({ msg: text })))).toEqual({ msg: 'C:\\app\\password=[REDACTED]' });
  });

  it('keeps any JSON line valid JSON, whatever the strings hold (property)', () => {
    const hostile = fc.oneof(
      fc.string(),
      fc.constantFrom('Bearer ', 'Basic ', 'token=', 'password=', '"secret":"', '\\"', '://u:', '@', '4111 1111 1111 1111', '123-45-6789', 'eyJ', 'bw_live_', 'whsec_', '\\', '"', '\n'),
    );
    const text = fc.array(hostile, { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(text, fc.integer(), fc.array(text, { maxLength: 3 }))), (record) => {
        const line = JSON.stringify(record);
        expect(() => JSON.parse(scrubLine(line))).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});

describe('scrubSecrets: bounded work', () => {
  it('finishes on pathological inputs (long runs that almost match every rule)', () => {
    const inputs = [
      'a'.repeat(200_000),
      '1 '.repeat(100_000),
      'Bearer '.repeat(20_000),
      'x://a:'.repeat(20_000),
      '"k":"'.repeat(20_000),
      '='.repeat(100_000),
      'eyJa.'.repeat(20_000),
      'bw_'.repeat(50_000),
    ];
    for (const input of inputs) {
      expect(typeof scrub(input)).toBe('string');
      expect(typeof scrubLine(JSON.stringify({ msg: input }))).toBe('string');
    }
  });
});

describe('text helpers', () => {
  it('implements the Luhn check', () => {
    expect(isLuhnValid('4111111111111111')).toBe(true);
    expect(isLuhnValid('4111 1111 1111 1111')).toBe(true);
    expect(isLuhnValid('4111111111111112')).toBe(false);
    expect(isLuhnValid('0000000000')).toBe(false);
  });

  it('escapes every control character, the line separators and bidi overrides', () => {
    expect(escapeControlCharacters('a\nb\rc\td\u001b[31m\u0000\u007f\u0085\u2028\u202e')).toBe('a\\nb\\rc\\td\\u001b[31m\\u0000\\u007f\\u0085\\u2028\\u202e');
  });

  it('truncates with a count of dropped characters', () => {
    expect(truncate('abcdef', 4)).toBe('abcd…[truncated 2 chars]');
    expect(truncate('abc', 4)).toBe('abc');
  });
});
