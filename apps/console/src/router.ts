import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (`#/keys`): the gateway serves one index.html, whatever the page. An unknown or
 * empty hash is the overview.
 */
export const PAGES = [
  { route: 'overview', label: 'Overview' },
  { route: 'breakers', label: 'Breakers' },
  { route: 'limits', label: 'Rate limits' },
  { route: 'keys', label: 'API keys' },
  { route: 'sessions', label: 'Sessions' },
  { route: 'audit', label: 'Audit log' },
] as const;

export type Route = (typeof PAGES)[number]['route'];

const ROUTES: ReadonlySet<string> = new Set(PAGES.map((page) => page.route));

/** The route of a location hash (`#/keys` → `keys`). */
export function routeOf(hash: string): Route {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return ROUTES.has(name) ? (name as Route) : 'overview';
}

export function hrefOf(route: Route): string {
  return `#/${route}`;
}

/** The current route, following `hashchange`. */
export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => routeOf(window.location.hash));
  useEffect(() => {
    const follow = (): void => setRoute(routeOf(window.location.hash));
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  return route;
}
