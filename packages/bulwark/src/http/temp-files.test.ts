import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type * as FsPromises from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// rm can be made to fail on demand (running as root, permissions cannot be used to make it fail).
const removal = vi.hoisted(() => ({ fail: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const original = await importOriginal<typeof FsPromises>();
  return {
    ...original,
    rm: (...args: Parameters<typeof original.rm>) =>
      removal.fail ? Promise.reject(Object.assign(new Error('EBUSY: resource busy'), { code: 'EBUSY' })) : original.rm(...args),
  };
});
import { withTempDir, withTempFile } from './temp-files.js';

let parent: string;

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), 'bulwark-temp-test-'));
});

afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

describe('withTempDir', () => {
  it('creates a private directory, returns fn’s result and removes everything afterwards', async () => {
    let seen = '';
    const result = await withTempDir(
      async (dir) => {
        seen = dir;
        expect(statSync(dir).mode & 0o777).toBe(0o700);
        expect(dirname(dir)).toBe(parent);
        await writeFile(join(dir, 'a.txt'), 'x');
        return 42;
      },
      { dir: parent },
    );
    expect(result).toBe(42);
    expect(existsSync(seen)).toBe(false);
    expect(await readdir(parent)).toEqual([]);
  });

  it('removes the directory even when fn throws, and rethrows fn’s error', async () => {
    let seen = '';
    await expect(
      withTempDir(
        async (dir) => {
          seen = dir;
          await writeFile(join(dir, 'partial'), 'x');
          throw new Error('boom');
        },
        { dir: parent },
      ),
    ).rejects.toThrow('boom');
    expect(seen).not.toBe('');
    expect(existsSync(seen)).toBe(false);
  });

  it('uses unpredictable names', async () => {
    const names = new Set<string>();
    for (let index = 0; index < 20; index += 1) await withTempDir((dir) => names.add(basename(dir)), { dir: parent });
    expect(names.size).toBe(20);
  });

  it('logs and throws when the clean-up fails after fn succeeded', async () => {
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    let seen = '';
    removal.fail = true;
    try {
      await expect(withTempDir((dir) => (seen = dir), { dir: parent, logger })).rejects.toThrow('EBUSY');
    } finally {
      removal.fail = false;
    }
    expect(logger.error).toHaveBeenCalledOnce();
    expect(logger.error.mock.calls[0]?.[0]).toMatchObject({ dir: seen });
    await rm(seen, { recursive: true, force: true });
  });

  it('keeps fn’s error when both fn and the clean-up fail, and logs the clean-up failure', async () => {
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    let seen = '';
    removal.fail = true;
    try {
      await expect(
        withTempDir(
          (dir) => {
            seen = dir;
            throw new Error('original failure');
          },
          { dir: parent, logger },
        ),
      ).rejects.toThrow('original failure');
    } finally {
      removal.fail = false;
    }
    expect(logger.error).toHaveBeenCalledOnce();
    await rm(seen, { recursive: true, force: true });
  });

  it('rejects unsafe prefixes', async () => {
    await expect(withTempDir(() => 1, { prefix: '../x' })).rejects.toThrow(TypeError);
    await expect(withTempDir(() => 1, { prefix: '' })).rejects.toThrow(/prefix/);
  });
});

describe('withTempFile', () => {
  it('creates an empty 0600 file in a private directory and removes both afterwards', async () => {
    let path = '';
    const result = await withTempFile(
      async (file) => {
        path = file.path;
        expect(statSync(file.path).mode & 0o777).toBe(0o600);
        expect(statSync(dirname(file.path)).mode & 0o777).toBe(0o700);
        expect(basename(file.path)).toMatch(/^[0-9a-f]{32}\.json$/);
        await file.handle.writeFile('{"a":1}');
        return (await file.handle.stat()).size;
      },
      { dir: parent, extension: '.json' },
    );
    expect(result).toBe(7);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(dirname(path))).toBe(false);
  });

  it('closes the handle and removes the file when fn throws', async () => {
    let path = '';
    let handle: FileHandle | undefined;
    await expect(
      withTempFile(
        async (file) => {
          path = file.path;
          handle = file.handle;
          throw new TypeError('bad upload');
        },
        { dir: parent },
      ),
    ).rejects.toThrow('bad upload');
    // A closed FileHandle reports fd -1.
    expect(handle?.fd).toBe(-1);
    expect(existsSync(path)).toBe(false);
  });

  it('tolerates fn closing the handle itself', async () => {
    await expect(withTempFile(async ({ handle }) => handle.close(), { dir: parent })).resolves.toBeUndefined();
  });

  it('never writes through a pre-planted symlink: the name is random and the create exclusive', async () => {
    const victim = join(parent, 'victim');
    await writeFile(victim, 'original');
    // An attacker cannot predict the directory, so plant links in the parent: none is ever used.
    await symlink(victim, join(parent, 'bulwark-guess'));
    await withTempFile(({ handle }) => handle.writeFile('payload'), { dir: parent });
    expect((await import('node:fs')).readFileSync(victim, 'utf8')).toBe('original');
    await rm(join(parent, 'bulwark-guess'));
    await rm(victim);
  });

  it('rejects an unsafe extension', async () => {
    await expect(withTempFile(() => 1, { extension: '/../../x' })).rejects.toThrow(/extension/);
  });
});
