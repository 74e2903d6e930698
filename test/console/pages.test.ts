import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../../apps/gateway/test/support/gateway.js';
import { BROWSER_TEST_TIMEOUT_MS, DESKTOP, elementsPastTheEdge, eventually, horizontalOverflow, launchChromium, openConsolePage, PHONE, screenshot, signIn, type ConsolePage } from './support/browser.js';
import { CONSOLE_DIST } from './support/console-build.js';
import { startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';

/**
 * The console's pages in headless Chromium against a real gateway (API keys and the audit log in
 * PostgreSQL): the key life cycle with its audit entries, the breakers, rate limits, sessions and
 * audit pages (a tampered chain included), each page at 1280×800 and on a phone with no CSP
 * violation, no sideways scrolling and a label on every control.
 */

let gateway: ConsoleGateway;
let browser: Browser;

beforeAll(async () => {
  [gateway, browser] = await Promise.all([startConsoleGateway({ database: 'postgres' }), launchChromium()]);
  // Some traffic for the overview and the rate-limit counters.
  for (let i = 0; i < 5; i += 1) await send(`${gateway.url}/status`);
  await send(`${gateway.url}/api/hello`, { headers: { 'x-api-key': 'bw_test_invalid' } });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

async function goTo(page: Page, route: string, heading: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: heading, exact: true }).click();
  await eventually(() => page.url()).toMatch(new RegExp(`#/${route}$`));
  await eventually(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(heading);
}

/** Waits for the dialog, checks it is a modal `<dialog>`, and presses its confirm button. */
async function confirm(page: Page, button: string): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  expect(await dialog.evaluate((element) => `${element.tagName}:${String(element.matches(':modal'))}`)).toBe('DIALOG:true');
  await dialog.getByRole('button', { name: button }).click();
  await dialog.waitFor({ state: 'detached' });
}

/** Controls (inputs, selects, text areas, buttons) with no accessible name: should be none. */
const UNLABELLED = `[...document.querySelectorAll('input, select, textarea, button')]
  .filter((control) => !(control.labels?.length > 0 || control.getAttribute('aria-label') || (control.tagName === 'BUTTON' && control.textContent.trim() !== '')))
  .map((control) => control.outerHTML.slice(0, 120))`;

/** A page signed in before the tests of the enclosing `describe` and closed after them. */
function signedInPage(): () => ConsolePage {
  let session: ConsolePage | undefined;
  beforeAll(async () => {
    session = await openConsolePage(browser);
    await signIn(session.page, gateway.url, gateway.adminKey);
  });
  afterAll(() => session?.close());
  return () => session!;
}

describe('API keys', { timeout: BROWSER_TEST_TIMEOUT_MS }, () => {
  const signedIn = signedInPage();

  it('creates a key (shown once, with a copy button), lists it, revokes it after a confirmation, and both changes are in the audit log', async () => {
    const { page } = signedIn();
    await goTo(page, 'keys', 'API keys');
    await page.getByRole('button', { name: 'Create key' }).click();

    // Sent empty first: the fields say what is missing, next to themselves.
    await page.getByRole('button', { name: 'Create key' }).click();
    expect(await page.locator('#key-name-error').innerText()).toMatch(/name/i);
    expect(await page.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Name').fill('ci-deployer');
    await page.getByLabel('Tenant').first().fill('acme');
    await page.getByLabel('Scopes').fill('orders:read, orders:write');
    await page.getByRole('button', { name: 'Add a limit' }).click();
    await page.getByLabel('Limit 1: requests').fill('250');
    // Each row's window names its row for screen readers (the visible label is just "per").
    expect(await page.getByLabel('Limit 1: per').inputValue()).toBe('60000');
    await screenshot(page, 'keys-create-desktop');
    const created = page.waitForResponse((response) => response.url().endsWith('/admin/keys') && response.request().method() === 'POST');
    await page.getByRole('button', { name: 'Create key' }).click();
    expect((await created).status()).toBe(201);

    const secret = page.getByTestId('secret-once');
    await secret.waitFor();
    expect(await secret.innerText()).toMatch(/You will not see it again/);
    const key = await secret.locator('#secret-key').innerText();
    expect(key).toMatch(/^bw_live_/);
    expect(await secret.getByRole('button', { name: 'Copy API key' }).count()).toBe(1);
    // The new key works at the gateway.
    expect((await send(`${gateway.url}/api/hello`, { headers: { 'x-api-key': key } })).status).toBe(200);
    await screenshot(page, 'keys-secret-once-desktop');
    await secret.getByRole('button', { name: 'I have stored it' }).click();

    const row = page.locator('tbody tr', { hasText: 'ci-deployer' });
    await row.waitFor();
    const keyId = (await row.getAttribute('data-key-id')) ?? '';
    expect(await row.innerText()).toMatch(/acme[\s\S]*orders:read[\s\S]*orders:write[\s\S]*never[\s\S]*active/);
    await screenshot(page, 'keys-created-desktop');

    await row.getByRole('button', { name: /^Revoke key ci-deployer/ }).click();
    await confirm(page, 'Revoke key');
    expect(await page.locator('.status-message').innerText()).toContain(`Revoked ${keyId}`);
    await page.locator('tbody tr', { hasText: 'ci-deployer' }).waitFor({ state: 'detached' });
    await page.getByLabel('Include revoked keys').check();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    expect(await page.locator('tbody tr', { hasText: 'ci-deployer' }).innerText()).toMatch(/revoked/);
    expect((await send(`${gateway.url}/api/hello`, { headers: { 'x-api-key': key } })).status).toBe(401);

    await goTo(page, 'audit', 'Audit log');
    await page.getByLabel('Target').fill(keyId);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await eventually(() => page.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action')))).toEqual(['api_key.revoke', 'api_key.create']);
    expect(await page.locator('tbody tr').first().innerText()).toContain(gateway.adminKeyId);
  });

  it('shows the field errors the gateway returns next to their fields', async () => {
    const { page } = signedIn();
    await goTo(page, 'keys', 'API keys');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByLabel('Name').fill('bad scopes');
    await page.getByLabel('Tenant').first().fill('acme');
    await page.getByLabel('Scopes').fill('orders read!');
    const answer = page.waitForResponse((response) => response.url().endsWith('/admin/keys') && response.request().method() === 'POST');
    await page.getByRole('button', { name: 'Create key' }).click();
    expect((await answer).status()).toBe(422);
    expect(await page.locator('#key-scopes-error').innerText()).toMatch(/scope/);
    const alert = page.getByRole('alert');
    expect(await alert.innerText()).toMatch(/Request id/);
    expect(await alert.innerText()).not.toMatch(/[{}]/);
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('rotates a key with a grace period: the new key is shown once and the old one keeps working until then', async () => {
    const { page } = signedIn();
    const old = await gateway.gateway.createKey(['orders:read'], { tenant: 'globex' });
    await goTo(page, 'keys', 'API keys');
    await page.getByRole('button', { name: 'Refresh' }).click();
    const row = page.locator(`tbody tr[data-key-id="${old.id}"]`);
    await row.getByRole('button', { name: /^Rotate key/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Grace period for the old key').selectOption({ label: '1 hour' });
    const rotated = page.waitForResponse((response) => response.url().endsWith(`/admin/keys/${old.id}/rotate`));
    await confirm(page, 'Rotate key');
    expect(JSON.parse((await rotated).request().postData() ?? '{}')).toEqual({ graceMs: 3_600_000 });

    const secret = page.getByTestId('secret-once');
    expect(await secret.innerText()).toMatch(/Key rotated for globex[\s\S]*You will not see it again[\s\S]*The old key works until/);
    const fresh = await secret.locator('#secret-key').innerText();
    expect(fresh).not.toBe(old.key);
    for (const key of [old.key, fresh]) expect((await send(`${gateway.url}/api/hello`, { headers: { 'x-api-key': key } })).status).toBe(200);
    await secret.getByRole('button', { name: 'I have stored it' }).click();
    expect(await row.innerText()).toMatch(/rotating until/);
  });
});

describe('operations pages', { timeout: BROWSER_TEST_TIMEOUT_MS }, () => {
  const signedIn = signedInPage();

  it('forces a breaker open and closes it again, each after a confirmation', async () => {
    const { page } = signedIn();
    await goTo(page, 'breakers', 'Breakers');
    const row = page.locator('tbody tr', { hasText: 'billing' });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/closed/);

    await row.getByRole('button', { name: 'Force open breaker billing' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect(await row.innerText()).toMatch(/closed/);

    await row.getByRole('button', { name: 'Force open breaker billing' }).click();
    await confirm(page, 'Force open');
    await eventually(() => row.innerText()).toMatch(/open[\s\S]*forced-open[\s\S]*closed → open/);
    expect((await send(`${gateway.url}/billing/x`, { headers: { 'x-api-key': gateway.adminKey } })).status).toBe(503);
    await screenshot(page, 'breakers-desktop');

    await row.getByRole('button', { name: 'Close breaker billing' }).click();
    await confirm(page, 'Close breaker');
    await eventually(() => row.innerText()).toMatch(/^billing\s+closed/);
  });

  it('lists the rate limits with their decisions and inspects and resets one key', async () => {
    const { page } = signedIn();
    await goTo(page, 'limits', 'Rate limits');
    const row = page.locator('tbody tr', { hasText: 'status-per-ip' });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/60 per 1 min\s+\d+/);

    await page.getByLabel('Limit', { exact: true }).selectOption('status-per-ip');
    await page.getByLabel('Key', { exact: true }).fill('ip:127.0.0.1');
    await page.getByRole('button', { name: 'Inspect' }).click();
    const state = page.getByTestId('limit-key-state');
    await state.waitFor();
    expect(await state.innerText()).toMatch(/Remaining\s+5\d/);
    await screenshot(page, 'limits-desktop');
    await page.getByRole('button', { name: 'Reset this key' }).click();
    await confirm(page, 'Reset key');
    expect(await page.locator('.status-message').innerText()).toMatch(/ip:127\.0\.0\.1 starts with a full quota/);
  });

  it("revokes a user's sessions after a confirmation", async () => {
    const { page } = signedIn();
    await goTo(page, 'sessions', 'Sessions');
    await page.getByRole('button', { name: 'Revoke sessions' }).click();
    expect(await page.locator('#sessions-user-error').innerText()).toMatch(/user id/);
    await page.getByLabel('Tenant').fill('acme');
    await page.getByLabel('User id').fill('alice');
    await page.getByRole('button', { name: 'Revoke sessions' }).click();
    await confirm(page, 'Revoke sessions');
    expect(await page.getByTestId('sessions-result').innerText()).toBe('alice (acme) had no active session.');
    await screenshot(page, 'sessions-desktop');
  });

  it('verifies the audit chain and pages through the log by cursor', async () => {
    const { page } = signedIn();
    // More entries than a page holds (50): resets through the admin API with the key, as a script would.
    for (let i = 1; i <= 55; i += 1) {
      const reset = await send(`${gateway.url}/admin/limits/status-per-ip/keys/ip:192.0.2.${i}`, { method: 'DELETE', headers: { 'x-api-key': gateway.adminKey } });
      expect(reset.status).toBe(200);
    }
    await goTo(page, 'audit', 'Audit log');
    await page.getByRole('button', { name: 'Verify chain' }).click();
    const verified = await page.getByTestId('audit-verified').innerText();
    expect(verified).toMatch(/^Chain intact: all \d+ entries verified\.$/);
    const total = Number(/all (\d+) entries/.exec(verified)?.[1]);
    expect(total).toBeGreaterThan(55);

    const ids = (): Promise<number[]> => page.locator('tbody tr th').evaluateAll((cells) => cells.map((cell) => Number(cell.textContent)));
    await eventually(async () => (await ids()).length).toBe(50);
    const first = await ids();
    expect(first[0]).toBe(total);
    await screenshot(page, 'audit-desktop');
    await page.getByRole('button', { name: 'Older entries' }).click();
    await eventually(async () => (await ids())[0]).toBe(total - 50);
    expect(await ids()).toEqual(Array.from({ length: total - 50 }, (_, index) => total - 50 - index));
    expect(await page.getByRole('button', { name: 'Older entries' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Newer entries' }).click();
    await eventually(ids).toEqual(first);
  });

  it('warns clearly when the audit chain is broken (an entry edited in the database)', async () => {
    const { page } = signedIn();
    await goTo(page, 'audit', 'Audit log');
    await gateway.sql("UPDATE bulwark_audit_log SET actor = 'someone-else' WHERE id = 2");
    await page.getByRole('button', { name: 'Verify chain' }).click();
    const warning = page.getByTestId('audit-broken');
    await warning.waitFor();
    expect(await warning.getAttribute('role')).toBe('alert');
    expect(await warning.innerText()).toMatch(/The audit chain is broken at entry #2[\s\S]*edited after it was written[\s\S]*cannot be trusted/);
    await screenshot(page, 'audit-broken-desktop');
  });

  it('draws the overview charts from the gateway samples and updates them', async () => {
    const { page } = signedIn();
    await goTo(page, 'overview', 'Overview');
    expect(await page.locator('figure.chart figcaption .chart-title').allInnerTexts()).toEqual(['Requests', 'Errors (5xx)', 'p99 latency', 'Rate-limit rejections', 'Open breakers']);
    expect(await page.locator('figure.chart canvas').count()).toBe(5);
    await eventually(() => page.getByTestId('overview-totals').innerText()).toMatch(/Since the gateway started: \d+ requests/);
    // The gateway samples every 5 s and the page asks every 5 s: a sample arrives within ~10 s.
    await eventually(() => page.locator('.chart-now').first().innerText(), 20_000).toMatch(/\/s$/);
    expect(await page.locator('.chart-canvas').first().getAttribute('aria-label')).toMatch(/^Requests: now .+\/s, \d+ samples$/);
    await screenshot(page, 'overview-desktop');
  });
});

describe('every page', { timeout: BROWSER_TEST_TIMEOUT_MS }, () => {
  const routes = [
    ['overview', 'Overview'],
    ['breakers', 'Breakers'],
    ['limits', 'Rate limits'],
    ['keys', 'API keys'],
    ['sessions', 'Sessions'],
    ['audit', 'Audit log'],
  ] as const;

  for (const [label, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    it(`renders at ${viewport.width}×${viewport.height} without CSP violations, sideways scrolling or unlabelled controls`, async () => {
      const session = await openConsolePage(browser, { viewport });
      try {
        const { page } = session;
        await signIn(page, gateway.url, gateway.adminKey);
        for (const [route, heading] of routes) {
          await page.goto(`${gateway.url}/console/#/${route}`);
          await eventually(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(heading);
          await page.waitForLoadState('networkidle');
          expect(await horizontalOverflow(page), `${route} scrolls sideways: ${(await elementsPastTheEdge(page)).join(', ')}`).toBe(0);
          expect(await page.evaluate(UNLABELLED), `${route} has unlabelled controls`).toEqual([]);
          if (label === 'phone' || route === 'keys' || route === 'sessions') await screenshot(page, `${route}-${label}`);
        }
        expect(await session.violations()).toEqual([]);
      } finally {
        await session.close();
      }
    });
  }

  it('is built without inline scripts or styles, with hashed asset names', () => {
    const html = readFileSync(join(CONSOLE_DIST, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      // Relative: the same build serves under any console.path.
      expect(attributes).toMatch(/\bsrc="\.\/assets\/[\w-]+-[\w-]{8}\.js"/);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).toMatch(/<link rel="stylesheet"[^>]*href="\.\/assets\/[\w-]+-[\w-]{8}\.css"/);
  });
});
