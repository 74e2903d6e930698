import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { resolveSafePathSync } from 'bulwark/http';
import type { LoggerLike } from 'bulwark/observability';

/**
 * The built console, read into memory once at start-up. The build is small (a few hundred KiB) and
 * only changes with a deploy, so holding it is cheaper and simpler than touching the file system per
 * request: no file handles, no stat races, no traversal to defend at request time — a request can
 * only ever name one of the files listed here, looked up in a map.
 *
 * Read: `index.html` and the other files at the top of the directory (favicon…) and the files of
 * `assets/` (the hashed bundles). Subdirectories, dotfiles, source maps and types not listed in
 * {@link CONTENT_TYPES} are left out. Every path is confined to the directory through
 * bulwark/http's `resolveSafePathSync` (a symbolic link leading out of it is skipped).
 */
export interface ConsoleAsset {
  readonly body: Buffer;
  readonly contentType: string;
  /** A strong validator from the content (`If-None-Match` → 304). */
  readonly etag: string;
  readonly cacheControl: string;
}

export interface ConsoleAssets {
  /** The directory read. */
  readonly dir: string;
  /** `index.html`, or `undefined` when the console was not built. */
  readonly index: ConsoleAsset | undefined;
  /** A file by its path below the directory (`assets/index-3f2a.js`, `favicon.svg`). */
  get(path: string): ConsoleAsset | undefined;
  readonly size: number;
}

/** What the browser gets for each extension; anything else is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Hashed names change with their content: cached for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Files at the top keep their names across builds: a short cache. */
const SHORT = 'public, max-age=300';
/** The page names the hashed files of the current build: always revalidated. */
const REVALIDATE = 'no-cache';

/** Bounds on what a misconfigured `assetsDir` can make the gateway read. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
const MAX_FILES = 2000;

export function loadConsoleAssets(dir: string, logger: LoggerLike): ConsoleAssets {
  const files = new Map<string, ConsoleAsset>();
  let total = 0;
  const add = (path: string, cacheControl: string): void => {
    const contentType = CONTENT_TYPES[extname(path).toLowerCase()];
    if (contentType === undefined || files.size >= MAX_FILES) return;
    const safe = resolveSafePathSync(dir, path);
    if (!safe.ok) {
      logger.warn({ file: path, reason: safe.reason }, 'console: file skipped (outside the assets directory)');
      return;
    }
    const stat = statSync(safe.path, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile() || stat.size > MAX_FILE_BYTES || total + stat.size > MAX_TOTAL_BYTES) return;
    const body = readFileSync(safe.path);
    total += body.length;
    files.set(path, { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`, cacheControl });
  };
  for (const name of fileNames(dir)) add(name, name === 'index.html' ? REVALIDATE : SHORT);
  for (const name of fileNames(`${dir}/assets`)) add(`assets/${name}`, IMMUTABLE);
  return {
    dir,
    index: files.get('index.html'),
    get: (path) => files.get(path),
    size: files.size,
  };
}

/** The plain names in a directory (no dotfiles, no source maps); none when it cannot be read. */
function fileNames(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => !name.startsWith('.') && !name.endsWith('.map'))
      .sort();
  } catch {
    return [];
  }
}
