import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { REPO_ROOT } from './console-build.js';

/**
 * Headless Chromium (Debian's `chromium`, driven by playwright-core) for the console tests. Each
 * scenario gets a context of its own (its own cookies) with a client address of its own, and every
 * page records the CSP violations it sees through the DOM's `securitypolicyviolation` event.
 */

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts/console');

/** A browser test clicks through several pages: room for a loaded machine (the suite runs in parallel). */
export const BROWSER_TEST_TIMEOUT_MS = 60_000;

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/** One CSP violation as the page saw it. */
export interface Violation {
  readonly directive: string;
  readonly blockedUri: string;
  readonly sample: string;
}

export interface ConsolePage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** The client address this context presents (`X-Forwarded-For` through the trusted loopback proxy). */
  readonly clientAddress: string;
  /** Violations seen since the page was last loaded (hash routes do not reload it). */
  violations(): Promise<Violation[]>;
  close(): Promise<void>;
}

let nextAddress = 1;

/**
 * A fresh context (no cookies) and page. The init script runs before the page's own scripts and is
 * not subject to the page's CSP (it is injected by the browser's debugging protocol), so it can
 * listen for violations without weakening the policy under test.
 */
export async function openConsolePage(browser: Browser, options: { readonly viewport?: { readonly width: number; readonly height: number } } = {}): Promise<ConsolePage> {
  const viewport = options.viewport ?? DESKTOP;
  const clientAddress = `198.51.100.${(nextAddress++ % 250) + 1}`;
  const context = await browser.newContext({
    viewport,
    isMobile: viewport.width < 600,
    hasTouch: viewport.width < 600,
    deviceScaleFactor: 1,
    extraHTTPHeaders: { 'x-forwarded-for': clientAddress },
  });
  await context.addInitScript(`
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__violations.push({ directive: event.violatedDirective, blockedUri: event.blockedURI, sample: event.sample });
    });
  `);
  const page = await context.newPage();
  return {
    context,
    page,
    clientAddress,
    async violations() {
      // The event is dispatched in a task of its own after the violation: let the queue drain first.
      return (await page.evaluate('new Promise((resolve) => setTimeout(() => resolve(window.__violations), 0))')) as Violation[];
    },
    close: () => context.close(),
  };
}

/** Saves a full-page screenshot as a test artefact (test-artifacts/console/<name>.png, gitignored). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Signs in through the form, as a person would, and waits for the navigation to appear. */
export async function signIn(page: Page, baseUrl: string, key: string, consolePath = '/console'): Promise<void> {
  await page.goto(`${baseUrl}${consolePath}/`);
  await page.getByLabel('Admin API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
}

/** How far the page scrolls sideways (0 when everything fits the viewport's width). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as Promise<number>;
}

/** The elements that reach past the right edge of the viewport, for a failure message. */
export function elementsPastTheEdge(page: Page): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll('body *')]
    .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    // Inside a scrolling table box only what escapes the box counts (absolutely positioned elements).
    .filter((element) => !element.closest('.table-wrap') || element.classList.contains('table-wrap') || getComputedStyle(element).position === 'absolute')
    .slice(0, 10)
    .map((element) => element.tagName.toLowerCase() + (element.className ? '.' + String(element.className).split(' ').join('.') : '') + ' ' + Math.round(element.getBoundingClientRect().right))`) as Promise<string[]>;
}

/**
 * `expect.poll` with room for a loaded machine (the whole suite runs in parallel on two cores):
 * what the page shows after a click or a navigation, checked until it matches or 10 s pass.
 */
export function eventually<T>(read: () => Promise<T> | T, timeoutMs = 10_000): ReturnType<typeof expect.poll<T>> {
  return expect.poll(read, { timeout: timeoutMs, interval: 100 });
}
