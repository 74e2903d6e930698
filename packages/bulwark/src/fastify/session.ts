import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import { appendVary } from '../session/vary.js';
import { createSessionHttp } from '../session/session-http.js';
import type { HttpExchange, SessionHandle, SessionHttp, SessionHttpOptions, SessionLoad, SessionStartResult } from '../session/session-http.js';
import { isSessionStoreError } from '../session/store-error.js';
import type { SessionData, SessionSubject } from '../session/types.js';

export type { SessionHandle, SessionHttpOptions, SessionStartResult } from '../session/session-http.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the sessions hooks when the request carries a valid session. */
    bulwarkSession?: SessionHandle;
  }
}

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export interface FastifySessions {
  /** The framework-neutral layer (store, CSRF, cookie names). */
  readonly http: SessionHttp;
  /** `onRequest` hook: loads a valid session into `request.bulwarkSession`, lets other requests through. */
  readonly load: Hook;
  /**
   * `onRequest` hook: like `load`, but a request without a valid session fails with 401
   * `SESSION_REQUIRED` (no cookie) or `SESSION_INVALID` (every other reason — one answer for all).
   * A failing store gives 503 `DEPENDENCY_UNAVAILABLE` with `Retry-After: 1`.
   */
  readonly require: Hook;
  /** Logs a user in: creates the session, sets the cookies and `request.bulwarkSession`. */
  login(request: FastifyRequest, reply: FastifyReply, input: SessionSubject & { readonly data?: SessionData }): Promise<SessionStartResult>;
}

/**
 * Fastify adapter for Bulwark sessions: hooks, in the style of `apiKeyAuth`, so each route (or
 * encapsulated context) says whether it needs a session. The session is loaded once per request
 * however many hooks run.
 *
 * @throws TypeError naming the option when one is invalid.
 * @example
 * const sessions = createFastifySessions({ store, csrf });
 * app.addHook('onRequest', sessions.load);
 * app.post('/login', async (request, reply) => {
 *   const login = await sessions.login(request, reply, { tenant: 'default', userId: user.id });
 *   return reply.code(login.ok ? 204 : 401).send();
 * });
 * app.get('/account', { onRequest: sessions.require }, async (request) => request.bulwarkSession?.session.data);
 */
export function createFastifySessions(options: SessionHttpOptions): FastifySessions {
  const http = createSessionHttp(options);
  const loads = new WeakMap<FastifyRequest, Promise<SessionLoad>>();

  async function load(request: FastifyRequest, reply: FastifyReply): Promise<SessionLoad> {
    let pending = loads.get(request);
    if (pending === undefined) {
      pending = http.load(exchangeOf(request, reply));
      loads.set(request, pending);
    }
    try {
      const result = await pending;
      if (result.state === 'valid') request.bulwarkSession = result.handle;
      return result;
    } catch (error) {
      throw storeFailure(error);
    }
  }

  return {
    http,
    async load(request, reply) {
      await load(request, reply);
    },
    async require(request, reply) {
      const result = await load(request, reply);
      if (result.state !== 'valid') throw new ApiError(result.state === 'missing' ? 'SESSION_REQUIRED' : 'SESSION_INVALID');
    },
    async login(request, reply, input) {
      let result: SessionStartResult;
      try {
        result = await http.start(exchangeOf(request, reply), input);
      } catch (error) {
        throw storeFailure(error);
      }
      if (result.ok) {
        request.bulwarkSession = result.handle;
        loads.set(request, Promise.resolve({ state: 'valid', handle: result.handle }));
      }
      return result;
    },
  };
}

/** The request and reply as the session layer sees them. */
function exchangeOf(request: FastifyRequest, reply: FastifyReply): HttpExchange {
  return {
    method: request.method,
    headers: request.headers,
    remoteAddress: request.raw.socket.remoteAddress,
    setCookie(value) {
      // Fastify appends repeated set-cookie headers instead of replacing them.
      reply.header('set-cookie', value);
    },
    vary(names) {
      reply.header('vary', appendVary(reply.getHeader('vary'), names));
    },
  };
}

function storeFailure(error: unknown): unknown {
  return isSessionStoreError(error) ? new ApiError('DEPENDENCY_UNAVAILABLE', { headers: { 'retry-after': '1' }, cause: error }) : error;
}
