import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveSafePath, resolveSafePathSync } from './safe-path.js';

let root: string;
let base: string;
let outside: string;

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'bulwark-safe-path-')));
  base = join(root, 'base');
  outside = join(root, 'outside');
  await mkdir(join(base, 'sub', 'deeper'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(base, 'sub', 'file.txt'), 'inside');
  await writeFile(join(outside, 'secret.txt'), 'secret');
  await symlink(outside, join(base, 'escape-dir'));
  await symlink(join(outside, 'secret.txt'), join(base, 'escape-file'));
  await symlink(join(outside, 'not-yet-there'), join(base, 'dangling'));
  await symlink(join(base, 'sub'), join(base, 'inner-link'));
  await symlink('loop-b', join(base, 'loop-a'));
  await symlink('loop-a', join(base, 'loop-b'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.each([
  ['resolveSafePath', (dir: string, path: string) => resolveSafePath(dir, path)],
  ['resolveSafePathSync', (dir: string, path: string) => Promise.resolve(resolveSafePathSync(dir, path))],
])('%s', (_name, resolveIn) => {
  it('resolves existing and not-yet-existing paths inside the base', async () => {
    expect(await resolveIn(base, 'sub/file.txt')).toEqual({ ok: true, path: join(base, 'sub', 'file.txt') });
    expect(await resolveIn(base, 'sub/new/file.txt')).toEqual({ ok: true, path: join(base, 'sub', 'new', 'file.txt') });
    expect(await resolveIn(base, './sub/./deeper/../file.txt')).toEqual({ ok: true, path: join(base, 'sub', 'file.txt') });
    expect(await resolveIn(base, 'sub/')).toEqual({ ok: true, path: join(base, 'sub') });
  });

  it('follows symlinks that stay inside the base to their real location', async () => {
    expect(await resolveIn(base, 'inner-link/file.txt')).toEqual({ ok: true, path: join(base, 'sub', 'file.txt') });
  });

  it('refuses ../ escapes in every position', async () => {
    for (const attack of ['..', '../outside/secret.txt', 'sub/../../outside', 'sub/deeper/../../../x', './../base/../outside']) {
      expect(await resolveIn(base, attack), attack).toEqual({ ok: false, reason: 'traversal' });
    }
    // A name that merely starts with two dots is an ordinary file name.
    expect(await resolveIn(base, '..hidden')).toMatchObject({ ok: true });
  });

  it('refuses symlinks that lead outside, dangling symlinks and symlink loops', async () => {
    expect(await resolveIn(base, 'escape-dir/secret.txt')).toEqual({ ok: false, reason: 'symlink-escape' });
    expect(await resolveIn(base, 'escape-dir/new-file')).toEqual({ ok: false, reason: 'symlink-escape' });
    expect(await resolveIn(base, 'escape-file')).toEqual({ ok: false, reason: 'symlink-escape' });
    expect(await resolveIn(base, 'dangling')).toEqual({ ok: false, reason: 'symlink-escape' });
    expect(await resolveIn(base, 'loop-a/x')).toEqual({ ok: false, reason: 'symlink-escape' });
  });

  it('refuses absolute paths, NUL bytes, Windows drive, UNC and backslash forms', async () => {
    expect(await resolveIn(base, join(outside, 'secret.txt'))).toEqual({ ok: false, reason: 'absolute' });
    expect(await resolveIn(base, '/etc/passwd')).toEqual({ ok: false, reason: 'absolute' });
    expect(await resolveIn(base, 'sub/file.txt\u0000.png')).toEqual({ ok: false, reason: 'nul-byte' });
    for (const attack of ['C:\\Windows\\win.ini', 'c:secret', '\\\\server\\share\\x', '\\\\?\\C:\\x', '..\\..\\outside', 'sub\\file.txt']) {
      expect(await resolveIn(base, attack), attack).toEqual({ ok: false, reason: 'windows-path' });
    }
    expect(await resolveIn(base, '//server/share')).toEqual({ ok: false, reason: 'absolute' });
  });

  it('refuses empty and non-string paths, paths through files, and a missing base', async () => {
    expect(await resolveIn(base, '')).toEqual({ ok: false, reason: 'empty' });
    expect(await resolveIn(base, 42 as unknown as string)).toEqual({ ok: false, reason: 'invalid' });
    expect(await resolveIn(base, 'sub/file.txt/x')).toEqual({ ok: false, reason: 'invalid' });
    expect(await resolveIn(join(root, 'missing'), 'x')).toEqual({ ok: false, reason: 'base-unavailable' });
  });

  it('never returns a path outside the real base (property)', async () => {
    const segment = fc.constantFrom('..', '.', 'sub', 'deeper', 'escape-dir', 'inner-link', 'x', '', 'dangling', 'loop-a');
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 6 }), async (segments) => {
        const result = await resolveIn(base, segments.join('/'));
        if (result.ok) expect(result.path === base || result.path.startsWith(`${base}/`)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
