import { generateSecret } from '../crypto/generate-secret.js';
import { parseMasterKey } from '../crypto/master-key.js';
import { envSchema } from './env-schema.js';
import type { EnvSchema } from './env-schema.js';
import { assessSecret } from './secret-strength.js';

/** How to make a proper secret; part of every secret-related fix. */
export const GENERATE_SECRET_HINT =
  "Generate one with `npx bulwark secrets generate` (or `node -p \"require('node:crypto').randomBytes(32).toString('base64url')\"`) and keep it in your secret manager, not in the repository.";

export interface EnvSecretOptions {
  /** Minimum length in bytes (UTF-8), 16–4096. @default 32 */
  readonly minBytes?: number;
  /**
   * When the variable is unset, produce a fresh random secret (base64url, max(32, minBytes) bytes)
   * instead of an issue. Only for values that may change on every start (development-only
   * settings); the caller cannot tell a generated value from a configured one, so for a secret that
   * is required in production, use `.optional()` and decide in a cross-variable rule instead, as
   * `bulwarkEnvSchema` does for `BULWARK_MASTER_KEY`.
   * @default false
   */
  readonly allowGenerated?: boolean;
}

/**
 * A secret: refused when it is shorter than `minBytes`, a placeholder (`changeme`, `secret`,
 * `keyboard cat`, `xxxxxx…`, `123456…`, also inside short values), a repeated pattern, or below the
 * entropy floor — see {@link assessSecret}. Problems name the rule, never the value, and the fix
 * says how to generate a proper one.
 *
 * @example
 * const schema = z.object({ METRICS_TOKEN: envSecret({ minBytes: 24 }).optional() });
 */
export function envSecret(options: EnvSecretOptions = {}): EnvSchema<string> {
  const { minBytes = 32, allowGenerated = false } = options;
  if (!Number.isSafeInteger(minBytes) || minBytes < 16 || minBytes > 4096) {
    throw new TypeError(`envSecret: minBytes must be an integer between 16 and 4096, got ${String(minBytes)}`);
  }
  return envSchema({
    expects: `a random secret of at least ${minBytes} bytes`,
    fix: GENERATE_SECRET_HINT,
    whenUnset: allowGenerated ? () => generateSecret(Math.max(32, minBytes)) : undefined,
    parse(raw) {
      const assessment = assessSecret(raw, { minBytes });
      return assessment.ok ? { ok: true, value: raw } : { ok: false, problem: assessment.problem };
    },
  });
}

/**
 * A master key: canonical unpadded base64url of at least 32 random bytes, checked with
 * `parseMasterKey` from `bulwark/crypto` (and its placeholder check on the text). The result is the
 * base64url text; decode it with `parseMasterKey` when building the keyring.
 */
export function envMasterKey(): EnvSchema<string> {
  return envSchema({
    expects: 'base64url of at least 32 random bytes',
    fix: GENERATE_SECRET_HINT,
    parse(raw) {
      try {
        parseMasterKey(raw);
      } catch (error) {
        // parseMasterKey messages never contain the value; drop its own hint, the fix carries one.
        const reason = error instanceof Error ? error.message.replace(/^master key /, '').replace(/: generate one with .*$/, '') : 'is invalid';
        return { ok: false, problem: reason };
      }
      // 32 bytes of base64url are 43 characters; 32 of them must be more than placeholder filler.
      const assessment = assessSecret(raw, { minBytes: 32 });
      if (!assessment.ok && assessment.weakness === 'placeholder') return { ok: false, problem: assessment.problem };
      return { ok: true, value: raw };
    },
  });
}
