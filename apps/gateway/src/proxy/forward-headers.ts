import type { IncomingHttpHeaders } from 'node:http';
import type { Identity } from '../auth/identity.js';
import { connectionTokens, isHopByHop } from './hop-by-hop.js';

/** Identity headers the upstream may trust: the gateway sets them and strips any a client sent. */
export const IDENTITY_HEADERS = Object.freeze({ keyId: 'x-bulwark-key-id', tenant: 'x-bulwark-tenant', scopes: 'x-bulwark-scopes' });
const BULWARK_PREFIX = 'x-bulwark-';

/** What the proxy knows about the request beyond its headers. */
export interface ForwardContext {
  readonly requestId: string;
  /** The client address, resolved through trusted proxies only. */
  readonly clientIp: string;
  /** The directly connected peer. */
  readonly peerIp: string;
  /** Whether the peer is a trusted proxy (then its X-Forwarded-* are extended, not replaced). */
  readonly peerTrusted: boolean;
  /** `https` or `http`, as the client used it. */
  readonly proto: 'http' | 'https';
  readonly identity: Identity | undefined;
  /** Headers holding credentials the gateway consumed (API key, signature): never forwarded. */
  readonly consumed: ReadonlySet<string>;
  /** `Authorization` is dropped when it carried a credential the gateway consumed. */
  readonly dropAuthorization: boolean;
  /** The Host header to send: the upstream's, or the client's with `preserveHost`. */
  readonly host: string | undefined;
}

/**
 * The headers sent to the upstream: the client's, minus hop-by-hop headers (and those `Connection`
 * names), `Expect`, consumed credentials and any `x-bulwark-*` a client tried to smuggle in; plus the
 * identity, `X-Request-ID` and `X-Forwarded-For/Proto/Host`. A client's own `X-Forwarded-*` and
 * `Forwarded` are kept only when the peer is a trusted proxy.
 */
export function buildUpstreamHeaders(incoming: IncomingHttpHeaders, context: ForwardContext): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  const named = connectionTokens(incoming.connection);
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined) continue;
    if (isHopByHop(name) || name.startsWith(BULWARK_PREFIX) || context.consumed.has(name)) continue;
    if (named?.has(name) === true) continue;
    switch (name) {
      case 'host':
      case 'x-request-id':
      case 'x-real-ip':
      case 'x-forwarded-for':
      case 'x-forwarded-proto':
      case 'x-forwarded-host':
        continue; // set below
      case 'expect':
        // Node has already answered `100-continue` to the client, and undici refuses to send the
        // header (UND_ERR_NOT_SUPPORTED): forwarded, it turned the request into a 502 counted by the breaker.
        continue;
      case 'forwarded':
        if (!context.peerTrusted) continue;
        break;
      case 'authorization':
        if (context.dropAuthorization) continue;
        break;
      default:
        break;
    }
    out[name] = value;
  }

  const priorFor = context.peerTrusted ? joined(incoming['x-forwarded-for']) : undefined;
  out['x-forwarded-for'] = priorFor === undefined || priorFor === '' ? context.peerIp : `${priorFor}, ${context.peerIp}`;
  out['x-forwarded-proto'] = context.proto;
  const clientHost = (context.peerTrusted ? first(incoming['x-forwarded-host']) : undefined) ?? incoming.host;
  if (clientHost !== undefined) out['x-forwarded-host'] = clientHost;
  out['x-real-ip'] = context.clientIp;
  out['x-request-id'] = context.requestId;
  if (context.host !== undefined) out.host = context.host;

  const identity = context.identity;
  if (identity !== undefined) {
    if (identity.keyId !== undefined) out[IDENTITY_HEADERS.keyId] = identity.keyId;
    if (identity.tenant !== undefined) out[IDENTITY_HEADERS.tenant] = identity.tenant;
    if (identity.scopes.length > 0) out[IDENTITY_HEADERS.scopes] = identity.scopes.join(' ');
  }
  return out;
}

/**
 * The upstream's response headers as sent to the client: hop-by-hop headers dropped, and headers
 * the gateway owns (`owned`: security headers, `x-request-id`, rate-limit fields) left to the
 * gateway's values.
 */
export function filterResponseHeaders(headers: Record<string, string | string[] | undefined>, owned: ReadonlySet<string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  const named = connectionTokens(headers.connection);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || isHopByHop(name) || owned.has(name) || named?.has(name) === true) continue;
    out[name] = value;
  }
  return out;
}

function joined(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.join(', ');
}

function first(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : value[0];
  if (text === undefined) return undefined;
  const comma = text.indexOf(',');
  return (comma === -1 ? text : text.slice(0, comma)).trim() || undefined;
}

/**
 * Appends the upstream's response headers to a flat name/value list (see
 * {@link filterResponseHeaders} for what is dropped); repeated headers such as `set-cookie` become
 * one pair per value.
 */
export function appendResponseHeaders(flat: string[], headers: Record<string, string | string[] | undefined>, owned: ReadonlySet<string>): void {
  const named = headers.connection === undefined ? undefined : connectionTokens(headers.connection);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || isHopByHop(name) || owned.has(name) || named?.has(name) === true) continue;
    if (typeof value === 'string') flat.push(name, value);
    else for (const each of value) flat.push(name, each);
  }
}
