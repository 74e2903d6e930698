/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: a proxy must not
 * forward them. `Connection` can name more of them, which are removed too.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization']);

/** Whether `name` (lower case) is hop-by-hop on every connection: the fixed list and every `proxy-*` header. */
export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-');
}

/**
 * The extra header names a `Connection` header lists (lower case), or `undefined` when there are none
 * besides `close` / `keep-alive` / `upgrade` (which are hop-by-hop anyway).
 */
export function connectionTokens(connection: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (connection === undefined) return undefined;
  const text = typeof connection === 'string' ? connection : connection.join(',');
  let tokens: Set<string> | undefined;
  for (const raw of text.split(',')) {
    const token = raw.trim().toLowerCase();
    if (token === '' || token === 'close' || token === 'keep-alive' || token === 'upgrade') continue;
    tokens ??= new Set();
    tokens.add(token);
  }
  return tokens;
}
