/**
 * Signed CSRF tokens bound to a session: `v1.<nonce>.<mac>` where mac = HMAC-SHA256(secret,
 * "bulwark/csrf/v1" ␀ sessionId ␀ nonce). Only the server can make one, and one made for another
 * session (or for this session before its id was regenerated) does not verify. Several secrets
 * verify at once, so the signing secret can be rotated without failing forms already on screen.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from '../auth/safe-equal.js';

const NONCE_BYTES = 16;
const TOKEN_PATTERN = /^v1\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const MIN_SECRET_BYTES = 32;
const MAX_SECRETS = 8;

export interface CsrfTokens {
  /** A fresh token for the session with this id (signed with the first secret). */
  issue(sessionId: string): string;
  /** Whether `token` was issued for one of `sessionIds` under one of the secrets. Never throws. */
  verify(token: unknown, sessionIds: readonly string[]): boolean;
}

/** @throws TypeError unless `secrets` is 1–8 Buffers of at least 32 bytes. */
export function createCsrfTokens(factory: string, secrets: readonly Buffer[]): CsrfTokens {
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.length > MAX_SECRETS) {
    throw new TypeError(`${factory}: secrets must be an array of 1–${MAX_SECRETS} Buffers (the first signs; all verify)`);
  }
  const keys = secrets.map((secret: unknown, index) => {
    if (!Buffer.isBuffer(secret) || secret.length < MIN_SECRET_BYTES) {
      throw new TypeError(`${factory}: secrets[${index}] must be a Buffer of at least ${MIN_SECRET_BYTES} bytes (keyring.subkey('csrf'))`);
    }
    return Buffer.from(secret);
  });
  const [signing] = keys as [Buffer, ...Buffer[]];
  const mac = (key: Buffer, sessionId: string, nonce: string): string =>
    createHmac('sha256', key).update(`bulwark/csrf/v1\0${sessionId}\0${nonce}`).digest('base64url');

  return {
    issue(sessionId) {
      const nonce = randomBytes(NONCE_BYTES).toString('base64url');
      return `v1.${nonce}.${mac(signing, sessionId, nonce)}`;
    },
    verify(token, sessionIds) {
      if (typeof token !== 'string' || token.length !== 69) return false;
      const match = TOKEN_PATTERN.exec(token);
      if (match === null) return false;
      const nonce = match[1] as string;
      const given = match[2] as string;
      let valid = false;
      // Every candidate is computed and compared, so the time taken does not say which secret matched.
      for (const key of keys) {
        for (const sessionId of sessionIds) {
          if (typeof sessionId === 'string' && sessionId !== '' && safeEqual(mac(key, sessionId, nonce), given)) valid = true;
        }
      }
      return valid;
    },
  };
}
