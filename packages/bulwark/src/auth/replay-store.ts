/**
 * The replay (nonce) cache behind request signatures, legacy HMAC and webhooks: a value may be used
 * once within its lifetime. Implementations: {@link createMemoryReplayStore} (one process) and
 * {@link createRedisReplayStore} (shared by every instance). Both pass the same contract suite.
 */
export interface ReplayStore {
  /**
   * Records `id` in `namespace` for `ttlMs` milliseconds, atomically: resolves `true` when it was not
   * recorded yet (first use), `false` when it was (a replay). Rejects only when the store cannot
   * answer (Redis unreachable, memory store full); verifiers then fail closed.
   *
   * @param namespace who the id belongs to (a key id, a webhook scheme); ids of different namespaces never collide
   * @param id the nonce, signature or message id
   * @param ttlMs how long to remember it, in milliseconds (≥ 1)
   */
  checkAndStore(namespace: string, id: string, ttlMs: number): Promise<boolean>;
  /**
   * Forgets `id` in `namespace`, so that its next use is a first use again: for a delivery that was
   * accepted but could not be processed, whose sender will retry it with the same id. Resolves
   * whether or not the id was recorded; rejects only when the store cannot answer.
   */
  release(namespace: string, id: string): Promise<void>;
}

/** The name the RFC 9421 verifier's option uses: a nonce store is a replay store. */
export type NonceStore = ReplayStore;

/** Thrown (as a rejection) by the memory store when it is full of live entries and set to refuse. */
export class ReplayStoreFullError extends Error {
  constructor(maxSize: number) {
    super(`replay store is full (${maxSize} live entries); refusing rather than forgetting a live nonce`);
    this.name = 'ReplayStoreFullError';
  }
}

/**
 * The storage key of an id. `%`, `:`, whitespace, control and non-ASCII characters are escaped as
 * `%<hex code point>;`, so the mapping is injective — `("a:b", "c")` and `("a", "b:c")` cannot
 * collide — and never throws (`encodeURIComponent` throws on lone surrogates).
 */
export function replayKey(namespace: string, id: string): string {
  return `${escapeKeyPart(namespace)}:${escapeKeyPart(id)}`;
}

function escapeKeyPart(value: string): string {
  return value.replace(/[^\x21-\x24\x26-\x39\x3b-\x7e]/gu, (character) => `%${(character.codePointAt(0) ?? 0).toString(16)};`);
}

/** Validates the arguments every implementation receives; a bad TTL is a programming error. */
export function assertReplayArguments(namespace: unknown, id: unknown, ttlMs: unknown): void {
  if (typeof namespace !== 'string') throw new TypeError('namespace must be a string');
  if (typeof id !== 'string' || id.length === 0) throw new TypeError('id must be a non-empty string');
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 1) {
    throw new TypeError(`ttlMs must be a positive integer number of milliseconds, got ${String(ttlMs)}`);
  }
}
