import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import type { CsrfFailure, CsrfProtection } from '../session/csrf.js';
import { appendVary } from '../session/vary.js';

/** The catalogue code answering each CSRF failure (all 403). */
const CODES = { cross_site: 'CSRF_REJECTED', missing: 'CSRF_TOKEN_MISSING', invalid: 'CSRF_TOKEN_INVALID' } as const satisfies Record<CsrfFailure, string>;

/**
 * A Fastify hook refusing cross-site and token-less unsafe requests (every method but GET, HEAD,
 * OPTIONS and TRACE, whatever the Content-Type) with 403 `CSRF_REJECTED`, `CSRF_TOKEN_MISSING` or
 * `CSRF_TOKEN_INVALID`. With a session (`request.bulwarkSession`, loaded by an earlier hook) the
 * signed token bound to it is required too, from the `X-CSRF-Token` header or the form field.
 * Register it as `preHandler` to accept the token in a parsed form body, or as `onRequest` (after
 * the session hook) to refuse before the body is read, with the header token only. Adds
 * `Vary: Origin, Sec-Fetch-Site` to the answers of unsafe requests. Report-only mode refuses nothing.
 *
 * @example
 * const csrf = createCsrfProtection({ secrets: [keyring.subkey('csrf')] });
 * app.addHook('onRequest', sessions.load);
 * app.addHook('preHandler', csrfProtection({ csrf }));
 */
export function csrfProtection(options: { readonly csrf: CsrfProtection }): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const csrf = options?.csrf;
  if (typeof csrf !== 'object' || csrf === null || typeof csrf.check !== 'function') throw new TypeError('csrfProtection: csrf must come from createCsrfProtection');
  return async function bulwarkCsrfHook(request, reply) {
    if (!csrf.isUnsafe(request.method)) return;
    reply.header('vary', appendVary(reply.getHeader('vary'), csrf.varyHeaders));
    const session = request.bulwarkSession?.session;
    const decision = csrf.check({ method: request.method, headers: request.headers, body: request.body }, session === undefined ? undefined : { id: session.id, previousId: session.previousId });
    if (!decision.ok) throw new ApiError(CODES[decision.reason]);
  };
}
