import { combinedHeader, headerLines } from './signature-headers.js';
import type { SignatureRequest } from './signature-types.js';

/** The parts of a request's target that derived components are made of (RFC 9421 §2.2). */
export interface SignatureTarget {
  readonly method: string;
  /** Lower-case scheme: `https` or `http`. */
  readonly scheme: string;
  /** Lower-case `host[:port]` without the default port of the scheme; `undefined` when unknown. */
  readonly authority: string | undefined;
  /** The path as received, `/` when empty. */
  readonly path: string;
  /** The query without its `?`, `undefined` when the target has none. */
  readonly query: string | undefined;
}

// scheme "://" authority path-abempty [ "?" query ] [ "#" fragment ] — each class excludes the
// delimiter that ends it, so the match is linear.
const ABSOLUTE_URL = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/s;
const DEFAULT_PORTS: Readonly<Record<string, string>> = { https: '443', http: '80' };

/**
 * Reads the target of a request exactly as received: no percent-decoding, no dot-segment removal
 * (the signer covered the bytes it sent, and a verifier that normalised would accept paths the
 * signer never signed). Returns `undefined` when the request has no usable target.
 */
export function signatureTarget(request: SignatureRequest): SignatureTarget | undefined {
  if (typeof request.method !== 'string' || request.method.length === 0) return undefined;
  let scheme: string | undefined;
  let authority: string | undefined;
  let path: string | undefined;
  let query: string | undefined;
  const url = request.url;
  if (typeof url === 'string') {
    if (url.startsWith('/')) {
      const mark = url.indexOf('?');
      path = mark === -1 ? url : url.slice(0, mark);
      query = mark === -1 ? undefined : url.slice(mark + 1);
    } else {
      const match = ABSOLUTE_URL.exec(url);
      if (match === null) return undefined;
      scheme = (match[1] as string).toLowerCase();
      authority = stripUserinfo(match[2] as string);
      path = match[3] as string;
      query = match[4];
    }
  } else if (url !== undefined) {
    return undefined;
  }
  if (typeof request.path === 'string') path = request.path;
  if (typeof request.query === 'string') query = request.query === '' ? undefined : request.query.replace(/^\?/, '');
  if (typeof request.scheme === 'string') scheme = request.scheme.toLowerCase();
  if (typeof request.authority === 'string') authority = request.authority;
  if (authority === undefined) {
    // A repeated Host header is ambiguous (request smuggling territory): no authority at all.
    const hostLines = headerLines(request.headers, 'host');
    authority = hostLines?.length === 1 ? combinedHeader(request.headers, 'host') : undefined;
  }
  if (path === undefined) return undefined;
  scheme ??= 'https';
  return {
    method: request.method,
    scheme,
    authority: authority === undefined || authority === '' ? undefined : normaliseAuthority(authority, scheme),
    path: path === '' ? '/' : path,
    query,
  };
}

/** `Example.COM:443` → `example.com` for https; `example.com:8443` stays (RFC 9421 §2.2.3, RFC 9110 §4.2.3). */
export function normaliseAuthority(authority: string, scheme: string): string {
  const lower = authority.trim().toLowerCase();
  const colon = lower.lastIndexOf(':');
  // A colon inside `[…]` belongs to an IPv6 address, not to a port.
  if (colon === -1 || colon < lower.lastIndexOf(']')) return lower;
  const port = lower.slice(colon + 1);
  if (port === '' || port === DEFAULT_PORTS[scheme]) return lower.slice(0, colon);
  return lower;
}

function stripUserinfo(authority: string): string {
  const at = authority.lastIndexOf('@');
  return at === -1 ? authority : authority.slice(at + 1);
}
