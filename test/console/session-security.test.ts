import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../../apps/gateway/test/support/gateway.js';
import { BROWSER_TEST_TIMEOUT_MS, eventually, horizontalOverflow, launchChromium, openConsolePage, PHONE, screenshot, signIn, type ConsolePage } from './support/browser.js';
import { startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';

/**
 * The console's sign-in and its defences, in headless Chromium against a real gateway: sign-in and
 * sign-out, the same error for every wrong key and then the lockout, a cross-site form post, the
 * CSP against an injected inline script, keyboard access.
 */

let gateway: ConsoleGateway;
let browser: Browser;
/**
 * The normal build, served by a gateway with `console.path: /ops/console`, `admin.prefix:
 * /ops/admin` and an idle timeout just longer than the overview's 5 s refresh: were the refresh to
 * go on, it would keep the session alive for ever.
 */
let moved: ConsoleGateway;
const MOVED_IDLE_TIMEOUT_S = 6;
/** A tab signed in at the start and left alone on the overview while the other tests run. */
let unattended: Unattended;

beforeAll(async () => {
  [gateway, moved, browser] = await Promise.all([
    startConsoleGateway(),
    startConsoleGateway({ console: { path: '/ops/console', idleTimeout: `${MOVED_IDLE_TIMEOUT_S}s` }, admin: { prefix: '/ops/admin' } }),
    launchChromium(),
  ]);
  unattended = await leaveUnattended(moved);
}, 120_000);
afterAll(async () => {
  await unattended?.session.close();
  await browser?.close();
  await Promise.all([gateway?.close(), moved?.close()]);
});

/** Types a key into the sign-in form, submits it, and returns the status of the gateway's answer once the page shows it. */
async function submitSignIn(page: Page, key: string): Promise<number> {
  await page.getByLabel('Admin API key').fill(key);
  const answer = page.waitForResponse((response) => response.url().endsWith('/console/api/session') && response.request().method() === 'POST');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const status = (await answer).status();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  return status;
}

/** The text of the sign-in error, without its request id (which differs on every answer). */
async function signInErrorText(page: Page): Promise<string> {
  const alert = page.getByRole('alert');
  await alert.waitFor();
  return (await alert.locator('.problem-title, .problem-detail').allInnerTexts()).join(' | ');
}

describe('sign-in', { timeout: BROWSER_TEST_TIMEOUT_MS }, () => {
  it('signs in with an admin key, shows the overview, and keeps neither the key nor a readable cookie in the page', async () => {
    const { page, context, close } = await openConsolePage(browser);
    try {
      await page.goto(`${gateway.url}/console/`);
      const field = page.getByLabel('Admin API key');
      expect(await field.getAttribute('type')).toBe('password');
      await screenshot(page, 'sign-in-desktop');
      await field.fill(gateway.adminKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await eventually(() => page.getByRole('heading', { level: 1 }).innerText()).toBe('Overview');
      expect(await page.getByRole('navigation', { name: 'Console' }).getByRole('link').allInnerTexts()).toEqual(['Overview', 'Breakers', 'Rate limits', 'API keys', 'Sessions', 'Audit log']);
      expect(await page.locator('.who code').innerText()).toBe(gateway.adminKeyId);

      const cookies = await context.cookies(gateway.url);
      const session = cookies.find((cookie) => cookie.name === '__Host-bulwark-console');
      expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
      expect(await page.evaluate('document.cookie')).toBe('');
      expect(await page.content()).not.toContain(gateway.adminKey);
    } finally {
      await close();
    }
  });

  it('answers a wrong key five times with the same message, then locks sign-in and says until when', async () => {
    const { page, close } = await openConsolePage(browser);
    try {
      await page.goto(`${gateway.url}/console/`);
      // Every kind of refusal: garbage, a bad checksum, a key no one issued, a valid key without
      // the admin scope, a revoked admin key.
      const withoutAdmin = await gateway.gateway.createKey(['orders:read']);
      const revoked = await gateway.gateway.createKey(['admin']);
      await gateway.gateway.running.services.keyStore.revoke(revoked.id);
      const wrongKeys = ['not a key at all', `${gateway.adminKey.slice(0, -1)}${gateway.adminKey.endsWith('A') ? 'B' : 'A'}`, 'bw_test_nonsense', withoutAdmin.key, revoked.key];
      const messages: string[] = [];
      const requestIds: string[] = [];
      for (const key of wrongKeys) {
        expect(await submitSignIn(page, key)).toBe(401);
        messages.push(await signInErrorText(page));
        requestIds.push(await page.locator('.request-id code').innerText());
      }
      expect(new Set(messages).size).toBe(1);
      expect(messages[0]).not.toMatch(/format|checksum|expired|revoked|scope/i);
      // Five answers, five requests: the message is the same, not a stale one left on the page.
      expect(new Set(requestIds).size).toBe(5);

      // Locked now, even for the right key.
      expect(await submitSignIn(page, gateway.adminKey)).toBe(429);
      const lockout = page.getByTestId('lockout');
      await lockout.waitFor();
      expect(await lockout.innerText()).toMatch(/locked after too many failed attempts[\s\S]*Try again at .+ \(in \d+ (min|s)\)/);
      expect(await page.getByRole('navigation', { name: 'Console' }).count()).toBe(0);
      await screenshot(page, 'sign-in-locked-desktop');
    } finally {
      await close();
    }
  });

  it('sign-out ends the session on the gateway: the old cookie replayed is refused', async () => {
    const { page, close } = await openConsolePage(browser);
    try {
      await signIn(page, gateway.url, gateway.adminKey);
      // What the browser sends with its session (cookie, client address, the headers of its device
      // fingerprint), captured from a real request and replayed from outside the browser: it works
      // before sign-out, so the refusal after it is the sign-out's doing.
      const sent = page.waitForRequest((request) => request.url().endsWith('/console/api/session') && request.method() === 'GET');
      await page.reload();
      const headers = Object.fromEntries(Object.entries(await (await sent).allHeaders()).filter(([name]) => !['host', 'connection'].includes(name)));
      expect(headers['cookie']).toMatch(/^__Host-bulwark-console=/);
      const replay = (path: string) => send(`${gateway.url}${path}`, { headers });
      expect((await replay('/console/api/session')).status).toBe(200);
      expect((await replay('/admin/keys')).status).toBe(200);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Admin API key').waitFor();
      expect(await page.getByRole('status').innerText()).toBe('Signed out.');

      const afterSession = await replay('/console/api/session');
      expect(afterSession.status).toBe(401);
      expect(afterSession.json<{ code: string }>().code).toMatch(/^SESSION_/);
      expect((await replay('/admin/keys')).status).toBe(401);
    } finally {
      await close();
    }
  });

  it('reaches sign-in, the navigation and sign-out with the keyboard alone, focus visible', async () => {
    const { page, close } = await openConsolePage(browser);
    try {
      await page.goto(`${gateway.url}/console/`);
      await page.getByLabel('Admin API key').waitFor();
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.id')).toBe('sign-in-key');
      await page.keyboard.type(gateway.adminKey);
      await page.keyboard.press('Enter');
      await page.getByRole('navigation', { name: 'Console' }).waitFor();
      // The form is gone: focus lands on the first page's heading, not lost on the body.
      await eventually(() => page.evaluate('document.activeElement.tagName + ":" + document.activeElement.textContent.trim()')).toBe('H1:Overview');

      // From the top of the page: skip link, the six pages, sign-out.
      await page.reload();
      await page.getByRole('navigation', { name: 'Console' }).waitFor();
      const reached: string[] = [];
      for (let step = 0; step < 8; step += 1) {
        await page.keyboard.press('Tab');
        reached.push((await page.evaluate('document.activeElement.textContent.trim()')) as string);
      }
      expect(reached).toEqual(['Skip to content', 'Overview', 'Breakers', 'Rate limits', 'API keys', 'Sessions', 'Audit log', 'Sign out']);
      // The focused control has a visible focus ring.
      expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).not.toBe('none');

      // Enter on a navigation link opens the page and moves focus to its heading.
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Shift+Tab');
      expect(await page.evaluate('document.activeElement.textContent.trim()')).toBe('API keys');
      await page.keyboard.press('Enter');
      await eventually(() => page.evaluate('document.activeElement.tagName + ":" + document.activeElement.textContent.trim()')).toBe('H1:API keys');
      expect(page.url()).toMatch(/#\/keys$/);
    } finally {
      await close();
    }
  });
});

describe('defences', { timeout: BROWSER_TEST_TIMEOUT_MS }, () => {
  it('refuses a cross-site form post to the admin API (403) and creates nothing', async () => {
    const { page, close } = await openConsolePage(browser);
    const attacker = await startAttackerSite(gateway.url);
    try {
      await signIn(page, gateway.url, gateway.adminKey);
      // A page on another site (localhost is not 127.0.0.1) that posts a JSON-looking form to /admin/keys.
      const answer = page.waitForResponse((response) => response.url() === `${gateway.url}/admin/keys`);
      await page.goto(`http://localhost:${attacker.port}/`);
      const response = await answer;
      expect((await response.request().allHeaders())['sec-fetch-site']).toBe('cross-site');
      expect(response.status()).toBe(403);
      expect(((await response.json()) as { code: string }).code).toBe('CSRF_REJECTED');
      expect(await gateway.keyNames()).not.toContain('csrf-attack');
    } finally {
      await attacker.close();
      await close();
    }
  });

  it('blocks an injected inline script and inline event handler under the CSP, and reports the violation', async () => {
    const { page, close, violations } = await openConsolePage(browser);
    try {
      const response = await page.goto(`${gateway.url}/console/`);
      const csp = response?.headers()['content-security-policy'] ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      await page.getByLabel('Admin API key').waitFor();
      expect(await violations()).toEqual([]);

      await page.evaluate(`(() => {
        const script = document.createElement('script');
        script.textContent = 'window.__injectedScriptRan = true';
        document.body.appendChild(script);
        const holder = document.createElement('div');
        holder.innerHTML = '<img src="data:," onerror="window.__injectedHandlerRan = true">';
        document.body.appendChild(holder);
      })()`);
      await eventually(async () => (await violations()).map((violation) => violation.directive).sort()).toEqual(['script-src-attr', 'script-src-elem']);
      expect(await page.evaluate('window.__injectedScriptRan === undefined && window.__injectedHandlerRan === undefined')).toBe(true);
    } finally {
      await close();
    }
  });

  it('renders sign-in on a phone without sideways scrolling', async () => {
    const { page, close } = await openConsolePage(browser, { viewport: PHONE });
    try {
      await page.goto(`${gateway.url}/console/`);
      await page.getByLabel('Admin API key').waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      await screenshot(page, 'sign-in-phone');
    } finally {
      await close();
    }
  });
});

describe('one build under other paths, and an unattended tab', { timeout: BROWSER_TEST_TIMEOUT_MS }, () => {
  it('signs in and lists keys under /ops/console with the admin API at /ops/admin, from a deep link', async () => {
    const { page, close, violations } = await openConsolePage(browser);
    try {
      const paths: string[] = [];
      page.on('response', (response) => paths.push(`${response.status()} ${new URL(response.url()).pathname}`));
      // An old-style link to a page: redirected to its hash route, where the relative files load.
      await page.goto(`${moved.url}/ops/console/keys`);
      expect(page.url()).toBe(`${moved.url}/ops/console/#/keys`);
      await page.getByLabel('Admin API key').fill(moved.adminKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await eventually(() => page.getByRole('heading', { level: 1 }).innerText()).toBe('API keys');
      await page.locator(`tbody tr[data-key-id="${moved.adminKeyId}"]`).waitFor();

      expect(paths).toContain('200 /ops/console/');
      expect(paths).toContain('201 /ops/console/api/session');
      expect(paths).toContain('200 /ops/admin/keys');
      expect(paths.filter((entry) => /^\d+ \/(console|admin)\//.test(entry)), 'nothing asked at the default paths').toEqual([]);
      // The one refusal: the page asking for a session before sign-in.
      expect(paths.filter((entry) => !/^(200|201|302) /.test(entry))).toEqual(['401 /ops/console/api/session']);
      expect(await violations()).toEqual([]);
    } finally {
      await close();
    }
  });

  it('left open on the overview without input, stops its live updates and lands on sign-in saying the session expired', async () => {
    const { page } = unattended.session;
    // No mouse, no keys: after the idle timeout less its margin the updates stopped...
    const paused = await unattended.paused;
    expect(paused.note).toMatch(/^Live updates paused after \d(\.\d)? s without activity/);
    expect(paused.button).toBe('Resume updates');
    // ...and one idle timeout after the last request the session was gone: sign-in says why.
    await unattended.signedOut;
    expect(await page.getByRole('status').first().innerText()).toBe(`Your session expired after ${MOVED_IDLE_TIMEOUT_S} s without activity. Sign in again to continue.`);
    expect(unattended.overviewRequests(), 'no refresh after the pause').toBe(1);
    expect((await send(`${moved.url}/ops/console/api/session`, { headers: { 'x-forwarded-for': unattended.session.clientAddress } })).status).toBe(401);
  });
});

interface Unattended {
  readonly session: ConsolePage;
  readonly overviewRequests: () => number;
  /** The overview's note and its button once the live updates paused. */
  readonly paused: Promise<{ readonly note: string; readonly button: string }>;
  /** Sign-in is back. */
  readonly signedOut: Promise<void>;
}

/**
 * Signs in on the overview and leaves the tab alone: what it does next is watched from here, and
 * checked by the last test (the waiting is spent while the other tests run).
 */
async function leaveUnattended(target: ConsoleGateway): Promise<Unattended> {
  const session = await openConsolePage(browser);
  const { page } = session;
  let overviewRequests = 0;
  page.on('request', (request) => {
    if (request.url().endsWith('/ops/admin/overview')) overviewRequests += 1;
  });
  await signIn(page, target.url, target.adminKey, target.consolePath);
  // The note shows for about 3 s (from the pause to the session's end): read the moment it appears.
  const paused = page
    .getByTestId('live-note')
    .filter({ hasText: 'Live updates paused' })
    .waitFor({ timeout: 30_000 })
    .then(async () => {
      const shown = (await page.evaluate(`({
        note: document.querySelector('[data-testid="live-note"]')?.textContent ?? '',
        button: document.querySelector('.page-tools button')?.textContent ?? '',
      })`)) as { note: string; button: string };
      await screenshot(page, 'overview-idle-paused-desktop');
      return shown;
    });
  const signedOut = page.getByLabel('Admin API key').waitFor({ timeout: 30_000 });
  // Awaited by the test; marked handled here so a failure surfaces there, not as an unhandled rejection.
  paused.catch(() => undefined);
  signedOut.catch(() => undefined);
  return { session, overviewRequests: () => overviewRequests, paused, signedOut };
}

/**
 * Another site: a page on http://localhost:<port> whose form posts, on load, a body shaped like
 * JSON (enctype text/plain) to the gateway's /admin/keys — the classic CSRF against a JSON API.
 */
async function startAttackerSite(gatewayUrl: string): Promise<{ readonly port: number; close(): Promise<void> }> {
  const html = `<!doctype html><html><body>
<form method="POST" action="${gatewayUrl}/admin/keys" enctype="text/plain">
<input type="hidden" name='{"name":"csrf-attack","tenant":"evil","x":"' value='"}'>
</form>
<script>document.forms[0].submit()</script>
</body></html>`;
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
