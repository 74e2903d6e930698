import { ApiError } from 'bulwark/errors';
import { z } from 'zod';
import { dependencyUnavailable, jsonBody, parseInput } from '../admin/admin-context.js';
import { isUnambiguousPath } from '../routing/path-guard.js';
import type { BuiltinContext, BuiltinRegistrar } from '../server/build-server.js';
import type { ConsoleAsset, ConsoleAssets } from './console-assets.js';
import { applyConsoleHeaders, type ConsoleHeaders } from './console-headers.js';
import type { ConsoleSessions, ConsoleSessionView } from './console-sessions.js';

export interface ConsoleRoutesOptions {
  /** `console.path`, without a trailing slash (`/console`). */
  readonly path: string;
  readonly assets: ConsoleAssets;
  readonly headers: ConsoleHeaders;
  readonly sessions: ConsoleSessions;
  /**
   * `admin.prefix`: the session answers name it, so one build of the console works under any
   * `console.path` and `admin.prefix` (the page finds its own API from its address).
   */
  readonly adminPrefix: string;
}

const signInInput = z.strictObject({ key: z.string().min(1).max(512) });

/**
 * What the session API answers: the session, and where the admin API is.
 */
export interface ConsoleSessionAnswer extends ConsoleSessionView {
  readonly adminPrefix: string;
}

/**
 * The console's endpoints: the page and its files (`GET <path>/…`) and the session API
 * (`<path>/api/session`: POST signs in, GET describes the session, DELETE signs out). Every answer
 * carries the console's headers (strict CSP, nosniff, no referrer, no framing).
 *
 * The page is served at `<path>/` only: it loads its files by relative URLs (`./assets/…`), which
 * resolve below `<path>/` from there and nowhere else. Any other path without a file extension
 * (`<path>/keys`, typed or from an old bookmark) is redirected to the page's hash route
 * (`<path>/#/keys`).
 */
export function consoleRoutes(options: ConsoleRoutesOptions): BuiltinRegistrar {
  const { path, assets, headers, sessions, adminPrefix } = options;
  const answer = (view: ConsoleSessionView): ConsoleSessionAnswer => ({ ...view, adminPrefix });
  const below = `${path}/`;
  const api = `${path}/api/`;

  /** The page, or 503 while the console is not built (the API works regardless). */
  const page = (context: BuiltinContext): unknown => {
    if (assets.index === undefined) throw new ApiError('CONSOLE_NOT_BUILT', { detail: `The console is not built: run npm run build (no index.html in ${assets.dir}).` });
    return sendAsset(context, assets.index);
  };

  return (server, builtin) => {
    const consoleRoute = (handler: (context: BuiltinContext) => unknown) =>
      builtin('console', (context) => {
        applyConsoleHeaders(context.reply.raw, headers);
        return handler(context);
      });

    server.get(
      path,
      consoleRoute(({ request, reply }) => {
        const mark = request.url.indexOf('?');
        return reply.code(308).header('location', `${below}${mark === -1 ? '' : request.url.slice(mark)}`).header('content-length', '0').send();
      }),
    );
    server.get(below, consoleRoute(page));
    server.get(
      `${below}*`,
      consoleRoute((context) => {
        const url = context.request.url;
        const mark = url.indexOf('?');
        const requested = mark === -1 ? url : url.slice(0, mark);
        // Dot segments, encoded separators, bad escapes: refused before any lookup.
        if (!isUnambiguousPath(requested)) throw new ApiError('PATH_INVALID', { detail: 'The path has dot segments, encoded separators or empty segments.' });
        const name = decodeURIComponent(requested.slice(below.length));
        const asset = assets.get(name);
        if (asset !== undefined) return sendAsset(context, asset);
        // A file that is not there (an old hash, a guess) or an unknown API path: 404. Any other
        // path names one of the app's pages (`/console/keys`): its hash route, where the page's
        // relative file URLs resolve (from `/console/a/b` they would not).
        const last = name.slice(name.lastIndexOf('/') + 1);
        if (requested.startsWith(api) || name.startsWith('assets/') || last.includes('.')) throw new ApiError('NOT_FOUND');
        const search = mark === -1 ? '' : url.slice(mark);
        return context.reply.code(302).header('location', `${below}${search}#/${requested.slice(below.length)}`).header('content-length', '0').send();
      }),
    );

    const session = `${api}session`;
    server.post(
      session,
      consoleRoute(async (context) => {
        context.reply.header('cache-control', 'no-store');
        // Before the body is read: a cross-site form cannot even get its key checked.
        sessions.checkOrigin(context);
        const input = parseInput(signInInput, await jsonBody(context));
        const view = await sessions.signIn(context, input.key).catch(unavailable);
        context.reply.code(201);
        return answer(view);
      }),
    );
    server.get(
      session,
      consoleRoute(async (context) => {
        context.reply.header('cache-control', 'no-store');
        const current = await sessions.authenticate(context).catch(unavailable);
        return answer(current.view());
      }),
    );
    server.delete(
      session,
      consoleRoute(async (context) => {
        sessions.checkOrigin(context);
        const current = await sessions.authenticate(context).catch(unavailable);
        await sessions.signOut(context, current).catch(unavailable);
        return context.reply.code(204).send();
      }),
    );
  };
}

/** Anything but an `ApiError` from the stores (Redis, the database): 503 with Retry-After. */
function unavailable(error: unknown): never {
  throw dependencyUnavailable(error);
}

/** A file from memory, with its validator: `If-None-Match` answers 304 without the body. */
function sendAsset({ request, reply }: BuiltinContext, asset: ConsoleAsset): unknown {
  reply.header('cache-control', asset.cacheControl).header('etag', asset.etag);
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.header('content-type', asset.contentType).send(asset.body);
}
