/**
 * Cookies for sessions and CSRF tokens: `__Host-` prefixed, Secure, HttpOnly, SameSite=Lax by
 * default, and never larger than browsers keep.
 *
 * The `__Host-` prefix makes the browser refuse the cookie unless it is Secure, has `Path=/` and no
 * `Domain`: a sibling subdomain (or a man in the middle on plain HTTP) cannot plant or overwrite it
 * ("cookie tossing"), which is what would otherwise let an attacker fix a victim's session id or
 * CSRF cookie.
 *
 * On `http://localhost`: Chrome and Firefox treat localhost as a secure context and accept Secure
 * (and `__Host-`) cookies there, so the defaults work in development. Safari does not; for it, and
 * for plain-HTTP hosts other than localhost, set `secure: false` in development only — the cookie
 * then loses its prefix, and creating such options with `NODE_ENV=production` throws.
 */

/** Browsers keep cookies up to about 4096 bytes (RFC 6265 §6.1); a larger one is silently dropped. */
export const MAX_COOKIE_BYTES = 4096;

export type SameSite = 'lax' | 'strict' | 'none';

export interface CookieOptions {
  /** Send only over HTTPS (and use the `__Host-` prefix). `false` only in development. @default true */
  readonly secure?: boolean;
  /** Hidden from JavaScript. @default true */
  readonly httpOnly?: boolean;
  /** `lax` sends the cookie on top-level navigations from other sites; `strict` never cross-site. @default 'lax' */
  readonly sameSite?: SameSite;
  /** Lifetime in seconds, 1 – 400 days; absent, the cookie ends with the browser session. @default undefined */
  readonly maxAgeSeconds?: number | undefined;
}

export interface ResolvedCookieOptions {
  readonly secure: boolean;
  readonly httpOnly: boolean;
  readonly sameSite: SameSite;
  readonly maxAgeSeconds: number | undefined;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
/** RFC 6265 cookie-octet: visible ASCII except `"`, `,`, `;` and `\`. */
const COOKIE_OCTETS = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
const MAX_AGE_LIMIT = 400 * 24 * 60 * 60;

/**
 * Validates cookie options once.
 *
 * @throws TypeError naming the option; also when `secure: false` is asked for with `NODE_ENV=production`.
 */
export function resolveCookieOptions(factory: string, options: CookieOptions | undefined, defaults: Partial<ResolvedCookieOptions> = {}): ResolvedCookieOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new TypeError(`${factory}: cookie must be an object`);
  const secure = options?.secure ?? defaults.secure ?? true;
  const httpOnly = options?.httpOnly ?? defaults.httpOnly ?? true;
  const sameSite = options?.sameSite ?? defaults.sameSite ?? 'lax';
  const maxAgeSeconds = options?.maxAgeSeconds ?? defaults.maxAgeSeconds;
  if (typeof secure !== 'boolean') throw new TypeError(`${factory}: cookie.secure must be a boolean`);
  if (typeof httpOnly !== 'boolean') throw new TypeError(`${factory}: cookie.httpOnly must be a boolean`);
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') throw new TypeError(`${factory}: cookie.sameSite must be 'lax', 'strict' or 'none'`);
  if (sameSite === 'none' && !secure) throw new TypeError(`${factory}: cookie.sameSite 'none' requires secure (browsers refuse it otherwise)`);
  if (maxAgeSeconds !== undefined && (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 1 || maxAgeSeconds > MAX_AGE_LIMIT)) {
    throw new TypeError(`${factory}: cookie.maxAgeSeconds must be an integer between 1 and ${MAX_AGE_LIMIT}`);
  }
  if (!secure && process.env.NODE_ENV === 'production') {
    throw new TypeError(`${factory}: cookie.secure: false is for development over plain HTTP only, and NODE_ENV is production`);
  }
  return { secure, httpOnly, sameSite, maxAgeSeconds };
}

/** The name a cookie is sent under: `__Host-<base>` when secure, `<base>` otherwise. */
export function cookieName(base: string, secure: boolean): string {
  if (typeof base !== 'string' || !TOKEN.test(base) || /^__(host|secure)-/i.test(base)) {
    throw new TypeError(`cookie name ${JSON.stringify(base)} must be a token of 1–128 characters without a __Host-/__Secure- prefix (it is added)`);
  }
  return secure ? `__Host-${base}` : base;
}

/**
 * The `Set-Cookie` value for a cookie. Always `Path=/` and no `Domain` (what `__Host-` requires).
 *
 * @throws TypeError for a name or value that is not allowed in a cookie, or a `__Host-` cookie that
 *   is not Secure; RangeError when the cookie would exceed {@link MAX_COOKIE_BYTES} (browsers would
 *   drop it without a word, so it is refused here, loudly).
 * @example
 * serializeCookie('__Host-sid', token, resolveCookieOptions('app', {}));
 * // '__Host-sid=…; Path=/; Secure; HttpOnly; SameSite=Lax'
 */
export function serializeCookie(name: string, value: string, options: ResolvedCookieOptions): string {
  return build(name, value, options, options.maxAgeSeconds);
}

/** The `Set-Cookie` value that deletes a cookie (same attributes, empty value, `Max-Age=0`). */
export function clearedCookie(name: string, options: ResolvedCookieOptions): string {
  return build(name, '', options, 0);
}

function build(name: string, value: string, options: ResolvedCookieOptions, maxAgeSeconds: number | undefined): string {
  if (typeof name !== 'string' || !TOKEN.test(name)) throw new TypeError(`cookie name ${JSON.stringify(name)} is not a token`);
  if (typeof value !== 'string' || !COOKIE_OCTETS.test(value)) throw new TypeError(`the value of cookie ${name} has characters not allowed in a cookie`);
  if (/^__(host|secure)-/i.test(name) && !options.secure) throw new TypeError(`cookie ${name}: the prefix requires secure`);
  const parts = [`${name}=${value}`, 'Path=/'];
  if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`);
  if (options.secure) parts.push('Secure');
  if (options.httpOnly) parts.push('HttpOnly');
  parts.push(`SameSite=${options.sameSite === 'lax' ? 'Lax' : options.sameSite === 'strict' ? 'Strict' : 'None'}`);
  const cookie = parts.join('; ');
  const bytes = Buffer.byteLength(cookie);
  if (bytes > MAX_COOKIE_BYTES) {
    throw new RangeError(`cookie ${name} would be ${bytes} bytes, more than the ${MAX_COOKIE_BYTES} browsers keep; store the data server-side`);
  }
  return cookie;
}

/**
 * The value of cookie `name` in a `Cookie` header, or `undefined`. Only the first cookie of that
 * name counts (browsers send the most specific first). Hand-written rather than a parser of the
 * whole header: one name is looked up per request and nothing else is decoded or allocated.
 */
export function readCookie(header: string | readonly string[] | undefined, name: string): string | undefined {
  const text = typeof header === 'string' ? header : Array.isArray(header) ? header.join('; ') : undefined;
  if (text === undefined || text.length === 0) return undefined;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(';', start);
    if (end === -1) end = text.length;
    const equals = text.indexOf('=', start);
    if (equals !== -1 && equals < end && text.slice(start, equals).trim() === name) {
      let value = text.slice(equals + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
    start = end + 1;
  }
  return undefined;
}
