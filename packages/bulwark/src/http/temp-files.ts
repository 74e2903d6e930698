/**
 * Secure temporary files and directories: private, unpredictable, exclusively created, and always
 * removed. The classic failures are a predictable name in a shared /tmp (another local user creates
 * it first, or a symlink with that name, and the service writes through it), world-readable
 * permissions, and leftovers when the code in between throws.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../observability/logger-like.js';
import type { LoggerLike } from '../observability/logger-like.js';

export interface TempDirOptions {
  /** Parent directory of the private directory. @default os.tmpdir() */
  readonly dir?: string;
  /** Prefix of the directory name (letters, digits, `-`, `_`; at most 32). @default 'bulwark-' */
  readonly prefix?: string;
  /** Where a failed clean-up is reported (it is also thrown when `fn` succeeded). @default silent */
  readonly logger?: LoggerLike;
}

export interface TempFileOptions extends TempDirOptions {
  /** Extension of the file name, with its dot (`.json`; a dot and 1–16 letters or digits). @default '' */
  readonly extension?: string;
}

/** The file handed to a {@link withTempFile} callback: open for reading and writing, mode 0600. */
export interface TempFile {
  readonly path: string;
  readonly handle: FileHandle;
}

const PREFIX = /^[A-Za-z0-9_-]{1,32}$/;
const EXTENSION = /^\.[A-Za-z0-9]{1,16}$/;

/**
 * Runs `fn` with a new private directory (created by mkdtemp(3): random name, mode 0700) and removes
 * the directory with everything in it afterwards, whether `fn` returned or threw. Returns what `fn`
 * returned. If the removal fails, that is logged, and thrown when `fn` itself succeeded (a leaked
 * temporary directory is a finding, not a detail); `fn`'s own error always wins.
 *
 * @throws TypeError for invalid options; whatever `fn` throws.
 * @example
 * const report = await withTempDir(async (dir) => {
 *   await writeFile(join(dir, 'input.csv'), csv, { flag: 'wx', mode: 0o600 });
 *   return runConverter(dir);
 * });
 */
export async function withTempDir<T>(fn: (dir: string) => Promise<T> | T, options: TempDirOptions = {}): Promise<T> {
  const prefix = options.prefix ?? 'bulwark-';
  if (!PREFIX.test(prefix)) throw new TypeError('prefix must be 1–32 letters, digits, "-" or "_"');
  const parent = options.dir ?? tmpdir();
  if (typeof parent !== 'string' || parent.length === 0) throw new TypeError('dir must be a non-empty path');
  const logger = options.logger ?? silentLogger;
  const dir = await mkdtemp(join(parent, prefix));
  let result: T;
  try {
    result = await fn(dir);
  } catch (error) {
    await removeQuietly(dir, logger);
    throw error;
  }
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch (error) {
    logger.error({ err: error, dir }, 'temporary directory could not be removed');
    throw error;
  }
  return result;
}

/**
 * Runs `fn` with a new empty file, created exclusively (`O_CREAT|O_EXCL`, so an existing file or
 * symlink of that name makes it fail instead of being followed) with mode 0600 and a random
 * 128-bit name inside a private directory from {@link withTempDir}. The handle is closed and the
 * directory removed afterwards, whatever happens. Returns what `fn` returned.
 *
 * @throws TypeError for invalid options; whatever `fn` throws.
 * @example
 * const digest = await withTempFile(async ({ path, handle }) => {
 *   await handle.writeFile(upload);
 *   return scanWithClamd(path);
 * }, { extension: '.pdf' });
 */
export async function withTempFile<T>(fn: (file: TempFile) => Promise<T> | T, options: TempFileOptions = {}): Promise<T> {
  const extension = options.extension ?? '';
  if (extension !== '' && !EXTENSION.test(extension)) throw new TypeError('extension must be a dot followed by 1–16 letters or digits');
  return withTempDir(async (dir) => {
    const path = join(dir, `${randomBytes(16).toString('hex')}${extension}`);
    const handle = await open(path, 'wx+', 0o600);
    try {
      return await fn({ path, handle });
    } finally {
      // Closing twice is harmless; fn may have closed it already.
      await handle.close().catch(() => undefined);
    }
  }, options);
}

async function removeQuietly(dir: string, logger: LoggerLike): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch (error) {
    logger.error({ err: error, dir }, 'temporary directory could not be removed');
  }
}
