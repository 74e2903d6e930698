import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { ApiError } from '../errors/api-error.js';
import { appendVary } from '../session/vary.js';
import { createSessionHttp } from '../session/session-http.js';
import type { HttpExchange, SessionHandle, SessionHttp, SessionHttpOptions, SessionLoad, SessionStartResult } from '../session/session-http.js';
import { isSessionStoreError } from '../session/store-error.js';
import type { SessionData, SessionSubject } from '../session/types.js';

export type { SessionHandle, SessionHttpOptions, SessionStartResult } from '../session/session-http.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `sessions.middleware()` when the request carries a valid session. */
    bulwarkSession?: SessionHandle;
  }
}

export interface ExpressSessions {
  /** The framework-neutral layer (store, CSRF, cookie names). */
  readonly http: SessionHttp;
  /**
   * Loads the request's session into `req.bulwarkSession`. With `required` (the default) a request
   * without a valid session goes to `next(err)`: 401 `SESSION_REQUIRED` without a cookie, 401
   * `SESSION_INVALID` for every other reason (expired, unknown, wrong IP or device, locked — one
   * answer for all, so it tells an attacker nothing). A failing store gives 503
   * `DEPENDENCY_UNAVAILABLE` with `Retry-After: 1`. The session is loaded once per request however
   * many of these middlewares run.
   */
  middleware(options?: { readonly required?: boolean }): RequestHandler;
  /** Logs a user in: creates the session, sets the cookies and `req.bulwarkSession`. */
  login(req: Request, res: Response, input: SessionSubject & { readonly data?: SessionData }): Promise<SessionStartResult>;
}

/**
 * Express adapter for Bulwark sessions.
 *
 * @throws TypeError naming the option when one is invalid.
 * @example
 * const sessions = createExpressSessions({ store, csrf });
 * app.post('/login', express.urlencoded({ extended: false }), async (req, res) => {
 *   const user = await checkPassword(req.body);
 *   if (!user) { await store.recordFailure({ tenant: 'default', userId: req.body.user }); return res.status(401).end(); }
 *   const login = await sessions.login(req, res, { tenant: 'default', userId: user.id });
 *   res.status(login.ok ? 204 : 401).end();
 * });
 * app.use('/account', sessions.middleware(), csrfProtection({ csrf }));
 * app.use(problemErrorHandler());
 */
export function createExpressSessions(options: SessionHttpOptions): ExpressSessions {
  const http = createSessionHttp(options);
  const loads = new WeakMap<IncomingMessage, Promise<SessionLoad>>();

  function load(req: Request, res: Response): Promise<SessionLoad> {
    let pending = loads.get(req);
    if (pending === undefined) {
      pending = http.load(exchangeOf(req, res));
      loads.set(req, pending);
    }
    return pending;
  }

  return {
    http,
    middleware(middlewareOptions = {}) {
      const required = middlewareOptions.required ?? true;
      if (typeof required !== 'boolean') throw new TypeError('sessions.middleware: required must be a boolean');
      return function bulwarkSessionMiddleware(req, res, next) {
        load(req, res).then(
          (result) => {
            if (result.state === 'valid') req.bulwarkSession = result.handle;
            if (result.state !== 'valid' && required) next(new ApiError(result.state === 'missing' ? 'SESSION_REQUIRED' : 'SESSION_INVALID'));
            else next();
          },
          (error: unknown) => next(storeFailure(error)),
        );
      };
    },
    async login(req, res, input) {
      let result: SessionStartResult;
      try {
        result = await http.start(exchangeOf(req, res), input);
      } catch (error) {
        throw storeFailure(error);
      }
      if (result.ok) {
        req.bulwarkSession = result.handle;
        loads.set(req, Promise.resolve({ state: 'valid', handle: result.handle }));
      }
      return result;
    },
  };
}

/** The request and response as the session layer sees them. */
function exchangeOf(req: Request, res: Response): HttpExchange {
  return {
    method: req.method,
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
    setCookie(value) {
      res.append('Set-Cookie', value);
    },
    vary(names) {
      res.setHeader('Vary', appendVary(res.getHeader('Vary'), names));
    },
  };
}

/** A store failure as the 503 problem; anything else unchanged. */
function storeFailure(error: unknown): unknown {
  return isSessionStoreError(error) ? new ApiError('DEPENDENCY_UNAVAILABLE', { headers: { 'retry-after': '1' }, cause: error }) : error;
}
