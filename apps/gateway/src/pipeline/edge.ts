import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ApiError } from 'bulwark/errors';
import { createClientIpResolver, ipInCidrs, normalizeIp, parseCidrList, type ClientIpResolver, type ParsedCidrList } from 'bulwark/http';
import { HANDLED, type StageOutcome } from './compiled-route.js';
import type { Exchange } from './exchange.js';

/**
 * The first stages of every request, shared by the proxied routes and the gateway's own endpoints:
 * the client IP (trusted proxies only), the protocol and its HTTPS redirect, the request id echo and
 * the security headers. The header list is computed once at start-up; a proxied answer writes it in
 * its one `writeHead`, every other answer copies it with `setHeader` (see Exchange.applyHeaders).
 */

export type HeaderList = readonly (readonly [name: string, value: string])[];

export interface EdgeOptions {
  readonly trustedProxies: readonly string[];
  readonly httpsRedirect: boolean;
  /** Security headers for every response, built once (see security-headers.ts). */
  readonly securityHeaders: HeaderList;
}

export interface Edge {
  /** Client IP, protocol and response headers of a proxied request; {@link HANDLED} when redirected to HTTPS. */
  begin(exchange: Exchange): StageOutcome;
  /** The same for the gateway's own endpoints (no redirect: probes and scrapers speak plain HTTP). */
  describe(request: IncomingMessage): PeerInfo;
  /** Sets the security headers and the request id on a response. */
  decorate(response: ServerResponse, requestId: string): void;
  /** The security headers as flat name/value pairs, for a `writeHead` that sends everything at once. */
  readonly securityFlat: readonly string[];
}

export interface PeerInfo {
  readonly peerIp: string;
  readonly clientIp: string;
  readonly peerTrusted: boolean;
  readonly secure: boolean;
}

/** The peer of a keep-alive connection is the same for all its requests: resolved once per socket. */
const PEER = Symbol('bulwark.peer');
interface PeerCache {
  readonly ip: string;
  readonly trusted: boolean;
}
type SocketWithPeer = IncomingMessage['socket'] & { [PEER]?: PeerCache };

export function createEdge(options: EdgeOptions): Edge {
  const trusted: ParsedCidrList | undefined = options.trustedProxies.length === 0 ? undefined : parseCidrList(options.trustedProxies, 'server.trustedProxies');
  const resolveClientIp: ClientIpResolver = createClientIpResolver({ trustedProxies: options.trustedProxies });
  const headers = options.securityHeaders;

  const peerOf = (request: IncomingMessage): PeerCache => {
    const socket = request.socket as SocketWithPeer;
    let peer = socket[PEER];
    if (peer === undefined) {
      const remote = socket.remoteAddress ?? '';
      const ip = normalizeIp(remote) ?? (remote === '' ? 'unknown' : remote);
      peer = { ip, trusted: trusted !== undefined && ipInCidrs(ip, trusted) };
      socket[PEER] = peer;
    }
    return peer;
  };

  const describe = (request: IncomingMessage): PeerInfo => {
    const peer = peerOf(request);
    const forwardedFor = peer.trusted ? request.headers['x-forwarded-for'] : undefined;
    const clientIp = forwardedFor === undefined ? peer.ip : resolveClientIp(peer.ip, forwardedFor);
    const encrypted = (request.socket as Partial<TLSSocket>).encrypted === true;
    const secure = encrypted || (peer.trusted && forwardedProtoIsHttps(request.headers['x-forwarded-proto']));
    return { peerIp: peer.ip, clientIp, peerTrusted: peer.trusted, secure };
  };

  const decorate = (response: ServerResponse, requestId: string): void => {
    for (let i = 0; i < headers.length; i += 1) {
      const header = headers[i];
      if (header !== undefined) response.setHeader(header[0], header[1]);
    }
    response.setHeader('x-request-id', requestId);
  };

  return {
    describe,
    decorate,
    securityFlat: Object.freeze(headers.flatMap(([name, value]) => [name, value])),
    begin(exchange) {
      const peer = describe(exchange.request);
      exchange.peerIp = peer.peerIp;
      exchange.clientIp = peer.clientIp;
      exchange.peerTrusted = peer.peerTrusted;
      exchange.secure = peer.secure;
      if (options.httpsRedirect && !peer.secure) return redirectToHttps(exchange);
      return undefined;
    },
  };
}

/** Only the first (client-most) value counts: `https, http` from a chain means the client used https. */
function forwardedProtoIsHttps(value: string | string[] | undefined): boolean {
  if (value === undefined) return false;
  const text = typeof value === 'string' ? value : (value[0] ?? '');
  const comma = text.indexOf(',');
  return (comma === -1 ? text : text.slice(0, comma)).trim().toLowerCase() === 'https';
}

/** A Host header we are willing to put into a Location: a DNS name or an address, with an optional port. */
const SAFE_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function redirectToHttps(exchange: Exchange): StageOutcome {
  const host = exchange.request.headers.host;
  const response = exchange.response;
  if (host === undefined || !SAFE_HOST.test(host)) {
    // Without a trustworthy host there is nowhere safe to send the client.
    throw new ApiError('HEADER_INVALID', { detail: 'The Host header is missing or not a host name; cannot redirect to HTTPS.' });
  }
  const location = `https://${host.replace(/:\d+$/, '')}${exchange.request.url ?? '/'}`;
  exchange.applyHeaders();
  response.statusCode = 308;
  exchange.status = 308;
  response.setHeader('location', location);
  response.setHeader('content-length', 0);
  response.end();
  return HANDLED;
}
