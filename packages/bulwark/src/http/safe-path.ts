/**
 * Confining a user-supplied relative path to a base directory: the defence against `../` traversal,
 * absolute paths, NUL truncation, Windows drive and UNC forms, and symlinks that lead out of the base.
 *
 * The check is lexical first (cheap, no I/O for the obvious attacks), then physical: the base and the
 * deepest existing ancestor of the target are resolved with realpath(3), and the result must still lie
 * inside the real base. The returned path is that resolved one, so the caller opens exactly what was
 * checked. What this cannot close is the race where someone with write access to the base swaps a
 * directory for a symlink between the check and the open; keep the base writable only by the service.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Why a path was refused. */
export type SafePathRefusal =
  | 'invalid' // not a string, or a component is not a directory / cannot be read
  | 'empty'
  | 'nul-byte'
  | 'absolute'
  | 'windows-path' // drive letter, UNC, device path or a backslash
  | 'traversal' // `..` leads out of the base
  | 'symlink-escape' // a symlink (existing or dangling) leads out of the base
  | 'base-unavailable'; // the base directory cannot be resolved

export type SafePathResult = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: SafePathRefusal };

/**
 * Resolves `userPath` (decoded, relative, `/`-separated) inside `baseDir`. The target itself need not
 * exist (for files about to be written), but any part of it that does exist is followed through
 * symlinks and must stay inside the real base; a dangling symlink is refused, since where it will
 * lead cannot be checked. Never throws.
 *
 * @example
 * const result = await resolveSafePath('/srv/uploads', req.params.name);
 * if (!result.ok) throw new ApiError('PATH_INVALID', { detail: `Path refused: ${result.reason}` });
 * await readFile(result.path);
 */
export async function resolveSafePath(baseDir: string, userPath: string): Promise<SafePathResult> {
  const refused = lexicalRefusal(userPath);
  if (refused !== undefined) return refusal(refused);
  let realBase: string;
  try {
    realBase = await realpath(baseDir);
  } catch {
    return refusal('base-unavailable');
  }
  const target = resolve(realBase, userPath);
  if (!isInside(realBase, target)) return refusal('traversal');
  // Walk up from the target to the deepest part that exists, and resolve it for real.
  const missing: string[] = [];
  for (let candidate = target; ; ) {
    const step = await resolveExisting(candidate);
    if (step.kind === 'refused') return refusal(step.reason);
    if (step.kind === 'resolved') return finish(realBase, step.realPath, missing);
    missing.unshift(basename(candidate));
    candidate = parent(candidate);
  }
}

/** {@link resolveSafePath} without promises, for start-up checks (TLS certificate paths, say). */
export function resolveSafePathSync(baseDir: string, userPath: string): SafePathResult {
  const refused = lexicalRefusal(userPath);
  if (refused !== undefined) return refusal(refused);
  let realBase: string;
  try {
    realBase = realpathSync.native(baseDir);
  } catch {
    return refusal('base-unavailable');
  }
  const target = resolve(realBase, userPath);
  if (!isInside(realBase, target)) return refusal('traversal');
  const missing: string[] = [];
  for (let candidate = target; ; ) {
    const step = resolveExistingSync(candidate);
    if (step.kind === 'refused') return refusal(step.reason);
    if (step.kind === 'resolved') return finish(realBase, step.realPath, missing);
    missing.unshift(basename(candidate));
    candidate = parent(candidate);
  }
}

type Step = { kind: 'resolved'; realPath: string } | { kind: 'missing' } | { kind: 'refused'; reason: SafePathRefusal };

async function resolveExisting(candidate: string): Promise<Step> {
  try {
    return { kind: 'resolved', realPath: await realpath(candidate) };
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') return classify(error);
  }
  // ENOENT: either nothing is there, or a dangling symlink is (lstat sees the link itself).
  try {
    await lstat(candidate);
    return { kind: 'refused', reason: 'symlink-escape' };
  } catch (error) {
    return errorCode(error) === 'ENOENT' ? { kind: 'missing' } : classify(error);
  }
}

function resolveExistingSync(candidate: string): Step {
  try {
    return { kind: 'resolved', realPath: realpathSync.native(candidate) };
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') return classify(error);
  }
  try {
    lstatSync(candidate);
    return { kind: 'refused', reason: 'symlink-escape' };
  } catch (error) {
    return errorCode(error) === 'ENOENT' ? { kind: 'missing' } : classify(error);
  }
}

function finish(realBase: string, realAncestor: string, missing: readonly string[]): SafePathResult {
  if (!isInside(realBase, realAncestor)) return refusal('symlink-escape');
  return { ok: true, path: missing.length === 0 ? realAncestor : join(realAncestor, ...missing) };
}

/** A symlink loop is an escape attempt as far as the caller is concerned; anything else is unusable. */
function classify(error: unknown): Step {
  return { kind: 'refused', reason: errorCode(error) === 'ELOOP' ? 'symlink-escape' : 'invalid' };
}

/** The checks that need no file system. */
function lexicalRefusal(userPath: unknown): SafePathRefusal | undefined {
  if (typeof userPath !== 'string') return 'invalid';
  if (userPath.length === 0) return 'empty';
  if (userPath.includes('\u0000')) return 'nul-byte';
  // Drive letters (`C:\x`, `C:x`), UNC and device paths (`\\server\share`, `\\?\C:\`), and any
  // backslash: a separator on Windows, so `..\..\x` must not slip through on any platform.
  if (/^[A-Za-z]:/.test(userPath) || userPath.includes('\\')) return 'windows-path';
  if (isAbsolute(userPath) || userPath.startsWith('/')) return 'absolute';
  return undefined;
}

function isInside(base: string, target: string): boolean {
  const path = relative(base, target);
  return path === '' || (path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path));
}

function parent(path: string): string {
  return resolve(path, '..');
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf(sep) + 1);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

function refusal(reason: SafePathRefusal): SafePathResult {
  return { ok: false, reason };
}
