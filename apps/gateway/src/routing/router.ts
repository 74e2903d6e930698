import type { HttpMethod } from '../config/primitives.js';
import type { RouteMatch } from '../config/resolve.js';

/**
 * Matches a request to a configured route. The rules are simple enough to state in one sentence —
 * exact `path` routes first, then `prefix` routes from the longest prefix to the shortest, the first
 * whose methods include the request's wins — and the router is rebuilt whole on a config reload, so
 * swapping tables is one assignment.
 */

export type RouterResult<T> =
  | { readonly kind: 'found'; readonly value: T }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'not-found' };

interface Entry<T> {
  readonly value: T;
  readonly methods: ReadonlySet<string> | undefined;
  readonly matches: (path: string) => boolean;
}

const NOT_FOUND = Object.freeze({ kind: 'not-found' as const });

export class Router<T> {
  private readonly exact: Entry<T>[] = [];
  private readonly patterns: Entry<T>[] = [];
  private readonly prefixes: (Entry<T> & { readonly length: number })[] = [];
  private readonly found = new Map<T, RouterResult<T>>();

  /**
   * Adds a route. `methods` undefined matches every method; GET implies HEAD.
   */
  add(match: RouteMatch, value: T, extraMethods: readonly HttpMethod[] = []): void {
    const methods = match.methods === undefined ? undefined : new Set<string>([...match.methods, ...extraMethods, ...(match.methods.includes('GET') ? ['HEAD'] : [])]);
    this.found.set(value, { kind: 'found', value });
    if (match.kind === 'prefix') {
      const prefix = match.value.replace(/\/+$/, '');
      this.prefixes.push({ value, methods, length: prefix.length, matches: prefixMatcher(prefix) });
      this.prefixes.sort((a, b) => b.length - a.length);
      return;
    }
    if (match.value.includes('/:')) this.patterns.push({ value, methods, matches: patternMatcher(match.value) });
    else this.exact.push({ value, methods, matches: exactMatcher(match.value) });
  }

  /** The route for a method and a path (without query string). */
  find(method: string, path: string): RouterResult<T> {
    let allow: Set<string> | undefined;
    for (const list of [this.exact, this.patterns, this.prefixes] as readonly Entry<T>[][]) {
      for (const entry of list) {
        if (!entry.matches(path)) continue;
        if (entry.methods === undefined || entry.methods.has(method)) return this.found.get(entry.value) ?? NOT_FOUND;
        allow ??= new Set();
        for (const allowed of entry.methods) allow.add(allowed);
      }
    }
    return allow === undefined ? NOT_FOUND : { kind: 'method-not-allowed', allow: [...allow].sort() };
  }
}

function exactMatcher(path: string): (candidate: string) => boolean {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return (candidate) => candidate === trimmed || (trimmed !== '/' && candidate === `${trimmed}/`);
}

function prefixMatcher(prefix: string): (candidate: string) => boolean {
  if (prefix === '') return () => true;
  const withSlash = `${prefix}/`;
  return (candidate) => candidate === prefix || candidate.startsWith(withSlash);
}

/** `/users/:id/orders` matches `/users/42/orders`: a parameter is one non-empty segment. */
function patternMatcher(pattern: string): (candidate: string) => boolean {
  const segments = pattern.replace(/\/+$/, '').split('/');
  return (candidate) => {
    const parts = (candidate.length > 1 ? candidate.replace(/\/$/, '') : candidate).split('/');
    if (parts.length !== segments.length) return false;
    for (let i = 0; i < segments.length; i += 1) {
      const segment = segments[i] ?? '';
      const part = parts[i] ?? '';
      if (segment.startsWith(':')) {
        if (part === '') return false;
      } else if (segment !== part) return false;
    }
    return true;
  };
}
