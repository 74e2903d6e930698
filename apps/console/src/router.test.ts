import { describe, expect, it } from 'vitest';
import { hrefOf, PAGES, routeOf } from './router.js';

describe('routeOf', () => {
  it('reads the page from the hash, and falls back to the overview for anything else', () => {
    expect(routeOf('#/keys')).toBe('keys');
    expect(routeOf('#audit')).toBe('audit');
    expect(routeOf('#/limits?name=x')).toBe('limits');
    expect(routeOf('')).toBe('overview');
    expect(routeOf('#/__proto__')).toBe('overview');
    expect(routeOf('#main')).toBe('overview');
  });

  it('round-trips every page', () => {
    for (const page of PAGES) expect(routeOf(hrefOf(page.route))).toBe(page.route);
  });
});
