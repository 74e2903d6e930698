/**
 * Where the console's APIs are. One build serves under any `console.path` and `admin.prefix`: the
 * page is always served at `<console.path>/` (its files load by relative URLs), so its own address
 * names the session API, and the session answer names the admin API's prefix.
 */

/** The admin API's prefix until a session answer says otherwise (the gateway's default). */
export const DEFAULT_ADMIN_PREFIX = '/admin';

/**
 * The console's base path from the page's `location.pathname`: everything up to the last `/`
 * (`/ops/console/` → `/ops/console/`, `/console/index.html` → `/console/`).
 */
export function consoleBaseOf(pathname: string): string {
  const cut = pathname.lastIndexOf('/');
  return cut === -1 ? '/' : pathname.slice(0, cut + 1);
}

/** `<base>api/session`: the console's session API below the page. */
export function sessionPathOf(pathname: string): string {
  return `${consoleBaseOf(pathname)}api/session`;
}

/**
 * The admin prefix a session answer names, when it is a plain same-origin path (`/admin`,
 * `/ops/admin`); anything else (absent from an older gateway, `//host`, a full URL) is the default:
 * the page never sends its CSRF token anywhere but its own origin. A trailing `/` is dropped.
 */
export function adminPrefixOf(value: unknown): string {
  if (typeof value !== 'string' || !/^\/(?!\/)[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(value)) return DEFAULT_ADMIN_PREFIX;
  const trimmed = value.replace(/\/+$/, '');
  return trimmed === '' ? DEFAULT_ADMIN_PREFIX : trimmed;
}
