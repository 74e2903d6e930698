/**
 * Key prefixes reserved by live limiters, per backing store. Two limiters with one prefix in one
 * store would silently share counters (each halving the other's quota), so the second one is
 * refused at creation. A limiter frees its prefix with `dispose()` (a reloaded configuration
 * disposes the old limiters before creating the new ones).
 */
export class PrefixClaims {
  private readonly owners = new Map<string, { readonly owner: string }>();

  constructor(private readonly storeDescription: string) {}

  claim(prefix: string, owner: string): () => void {
    const holder = this.owners.get(prefix);
    if (holder !== undefined) {
      throw new TypeError(
        `keyPrefix "${prefix}" of limiter "${owner}" is already used by limiter "${holder.owner}" in ${this.storeDescription}; give each limiter its own keyPrefix (or dispose() the old limiter first)`,
      );
    }
    const claim = { owner };
    this.owners.set(prefix, claim);
    return () => {
      if (this.owners.get(prefix) === claim) this.owners.delete(prefix);
    };
  }
}

const claimsByBackend = new WeakMap<object, Map<string, PrefixClaims>>();

/**
 * The claims of one backend (a Redis client, a memory store) and namespace, shared by every store
 * object built on it, so that two store objects over one Redis cannot hide a clash.
 */
export function prefixClaimsFor(backend: object, namespace: string, description: string): PrefixClaims {
  let byNamespace = claimsByBackend.get(backend);
  if (byNamespace === undefined) {
    byNamespace = new Map();
    claimsByBackend.set(backend, byNamespace);
  }
  let claims = byNamespace.get(namespace);
  if (claims === undefined) {
    claims = new PrefixClaims(description);
    byNamespace.set(namespace, claims);
  }
  return claims;
}
