import type { RequestHandler } from 'express';
import { ApiError } from '../errors/api-error.js';
import type { CsrfFailure, CsrfProtection } from '../session/csrf.js';
import { appendVary } from '../session/vary.js';

export type { CsrfProtection, CsrfOptions, CsrfFailure } from '../session/csrf.js';

/** The catalogue code answering each CSRF failure (all 403). */
export const CSRF_ERROR_CODES = Object.freeze({ cross_site: 'CSRF_REJECTED', missing: 'CSRF_TOKEN_MISSING', invalid: 'CSRF_TOKEN_INVALID' } as const satisfies Record<CsrfFailure, string>);

/**
 * Express middleware refusing cross-site and token-less unsafe requests (every method but GET,
 * HEAD, OPTIONS and TRACE, whatever the Content-Type) with 403 `CSRF_REJECTED`,
 * `CSRF_TOKEN_MISSING` or `CSRF_TOKEN_INVALID` through `next(err)`. Mount it after
 * `sessions.middleware()`: with a session (`req.bulwarkSession`) the signed token bound to it is
 * required too, from the header (`X-CSRF-Token`) or, when a body parser ran first, the form field.
 * Adds `Vary: Origin, Sec-Fetch-Site` to the answers of unsafe requests. In report-only mode
 * nothing is refused (failures are logged and counted).
 *
 * @example
 * const csrf = createCsrfProtection({ secrets: [keyring.subkey('csrf')] });
 * app.use(sessions.middleware({ required: false }), express.urlencoded({ extended: false }), csrfProtection({ csrf }));
 */
export function csrfProtection(options: { readonly csrf: CsrfProtection }): RequestHandler {
  const csrf = options?.csrf;
  if (typeof csrf !== 'object' || csrf === null || typeof csrf.check !== 'function') throw new TypeError('csrfProtection: csrf must come from createCsrfProtection');
  return function bulwarkCsrfMiddleware(req, res, next) {
    if (!csrf.isUnsafe(req.method)) {
      next();
      return;
    }
    res.setHeader('Vary', appendVary(res.getHeader('Vary'), csrf.varyHeaders));
    const session = req.bulwarkSession?.session;
    const decision = csrf.check({ method: req.method, headers: req.headers, body: req.body as unknown }, session === undefined ? undefined : { id: session.id, previousId: session.previousId });
    next(decision.ok ? undefined : new ApiError(CSRF_ERROR_CODES[decision.reason]));
  };
}
