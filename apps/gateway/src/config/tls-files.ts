import { readFile, realpath } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import type { ConfigProblem } from './problems.js';

/** The certificate and key, read at start-up. Only the file names ever reach a log. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly certName: string;
  readonly keyName: string;
}

export interface TlsPaths {
  readonly certDir: string;
  readonly cert: string;
  readonly key: string;
}

export type TlsResult = { readonly ok: true; readonly material: TlsMaterial } | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/**
 * Reads the certificate and key, refusing any path that leaves `certDir` — also through `..` or a
 * symbolic link — so that a config value can never make the gateway read (and serve) another file.
 * `certDir` is relative to `baseDir` (the config file's directory).
 */
export async function loadTlsFiles(paths: TlsPaths, baseDir: string): Promise<TlsResult> {
  const problems: ConfigProblem[] = [];
  let certDir: string;
  try {
    certDir = await realpath(resolve(baseDir, paths.certDir));
  } catch {
    return { ok: false, problems: [{ path: 'server.tls.certDir', message: `certificate directory ${basename(paths.certDir)} does not exist` }] };
  }

  const read = async (field: 'cert' | 'key'): Promise<Buffer | undefined> => {
    const name = paths[field];
    const candidate = resolve(certDir, name);
    if (!isInside(certDir, candidate)) {
      problems.push({ path: `server.tls.${field}`, message: `${basename(name)} is outside server.tls.certDir` });
      return undefined;
    }
    try {
      const real = await realpath(candidate);
      if (!isInside(certDir, real)) {
        problems.push({ path: `server.tls.${field}`, message: `${basename(name)} links outside server.tls.certDir` });
        return undefined;
      }
      return await readFile(real);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push({ path: `server.tls.${field}`, message: `${basename(name)} cannot be read (${code})` });
      return undefined;
    }
  };

  const [cert, key] = await Promise.all([read('cert'), read('key')]);
  if (cert === undefined || key === undefined || problems.length > 0) return { ok: false, problems };
  return { ok: true, material: { cert, key, certName: basename(paths.cert), keyName: basename(paths.key) } };
}

function isInside(directory: string, candidate: string): boolean {
  const path = relative(directory, candidate);
  return path !== '' && !path.startsWith('..') && !isAbsolute(path);
}
