import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateMasterKey } from '../crypto/master-key.js';
import { generateSecret } from '../crypto/generate-secret.js';
import { envMasterKey, envSecret } from './env-secret.js';
import { formatEnvIssues, loadEnv } from './load-env.js';

describe('envSecret', () => {
  const schema = z.object({ API_SECRET: envSecret({ minBytes: 24 }) });

  it('accepts a generated secret', () => {
    const secret = generateSecret();
    const result = loadEnv(schema, { API_SECRET: secret });
    expect(result.ok && result.env.API_SECRET).toBe(secret);
  });

  it.each(['changeme', 'keyboard cat', 'your-secret-here', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'Password123456789012345678', 'short-but-random-9fQ'])(
    'refuses %j naming the variable, with how to generate one, never the value',
    (value) => {
      const result = loadEnv(schema, { API_SECRET: value });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.issues).toHaveLength(1);
      expect(result.issues[0]?.variable).toBe('API_SECRET');
      expect(result.issues[0]?.fix).toContain('bulwark secrets generate');
      const text = formatEnvIssues(result.issues);
      expect(text).toContain('API_SECRET');
      expect(text).not.toContain(value);
    },
  );

  it('is required unless generation is allowed', () => {
    const required = loadEnv(schema, {});
    expect(!required.ok && required.issues[0]?.problem).toBe('is not set (required)');
    expect(!required.ok && required.issues[0]?.fix).toContain('bulwark secrets generate');
  });

  it('generates a fresh strong value when allowed and unset, and still checks a set value', () => {
    const generating = z.object({ DEV_SECRET: envSecret({ allowGenerated: true }) });
    const first = loadEnv(generating, {});
    const second = loadEnv(generating, {});
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(Buffer.from(first.env.DEV_SECRET, 'base64url')).toHaveLength(32);
    expect(first.env.DEV_SECRET).not.toBe(second.env.DEV_SECRET);
    expect(loadEnv(generating, { DEV_SECRET: 'changeme' }).ok).toBe(false);
  });

  it.each([8, 15, 4097, 20.5])('refuses minBytes=%s', (minBytes) => {
    expect(() => envSecret({ minBytes })).toThrow(/minBytes must be an integer between 16 and 4096/);
  });
});

/** The canonical base64url spelling of `text` (only its last character can change). */
const canonical = (text: string): string => Buffer.from(text, 'base64url').toString('base64url');

describe('envMasterKey', () => {
  const schema = z.object({ KEY: envMasterKey() });

  it('accepts a generated master key', () => {
    const key = generateMasterKey();
    const result = loadEnv(schema, { KEY: key });
    expect(result.ok && result.env.KEY).toBe(key);
  });

  it.each([
    ['too short', randomBytes(20).toString('base64url'), /at least 32 bytes/],
    ['standard base64', randomBytes(32).toString('base64'), /base64url without padding/],
    ['not base64url', `${generateMasterKey()}!`, /not valid base64url/],
    ['all zeros', Buffer.alloc(32).toString('base64url'), /not random/],
    ['changeme repeated', 'changemechangemechangemechangemechangemeXYw', /not random/],
    ['mostly placeholder words', canonical(`passwordchangemesecret${generateMasterKey().slice(0, 21)}`), /placeholder/],
  ])('refuses a key that is %s, never echoing it', (_label, value, message) => {
    const result = loadEnv(schema, { KEY: value });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]?.problem).toMatch(message);
    expect(JSON.stringify(result.issues)).not.toContain(value);
  });
});
