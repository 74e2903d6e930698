import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { silentLogger } from '../observability/logger-like.js';
import type { LoggerLike } from '../observability/logger-like.js';
import { ListenerSet, checkKeyIds } from './revocation.js';
import type { RevocationBus } from './revocation.js';

export interface RedisRevocationBusOptions {
  /** Publishes broadcasts. Its options are copied for the subscriber unless `subscriber` is given. */
  readonly redis: Redis;
  /**
   * A dedicated connection for SUBSCRIBE (a subscribed connection can run nothing else).
   * @default redis.duplicate(), closed by `close()`
   */
  readonly subscriber?: Redis | undefined;
  /** Pub/sub channel; every instance of one deployment must use the same one. @default 'bulwark:api-key-revocations' */
  readonly channel?: string | undefined;
  /** Receives subscription errors and malformed messages. @default silentLogger */
  readonly logger?: LoggerLike | undefined;
}

/** Largest message accepted from the channel: 1000 ids of 64 characters fit with room to spare. */
const MAX_MESSAGE_BYTES = 96 * 1024;
const CHANNEL = /^[\x21-\x7e]{1,200}$/;

interface WireMessage {
  readonly v: 1;
  /** The publishing bus, so it can skip its own message (it delivered it locally already). */
  readonly o: string;
  readonly ids: readonly string[];
}

function decode(message: string): WireMessage | undefined {
  if (message.length > MAX_MESSAGE_BYTES) return undefined;
  try {
    const parsed = JSON.parse(message) as Partial<WireMessage> | null;
    if (parsed === null || typeof parsed !== 'object' || parsed.v !== 1 || typeof parsed.o !== 'string') return undefined;
    return { v: 1, o: parsed.o, ids: checkKeyIds(parsed.ids) };
  } catch {
    return undefined;
  }
}

/**
 * Revocation broadcast over Redis pub/sub: `publish` on one instance reaches every instance's
 * verifier within the pub/sub delay (milliseconds on a healthy network). Pub/sub does not queue:
 * a subscriber that is disconnected misses messages. So when the subscription comes back after a
 * disconnect, listeners get a `resync` event (verifiers drop their whole cache), and the verifier
 * cache TTL (5 s by default) bounds staleness while the connection is down.
 *
 * Messages from the channel are validated (size, shape, ids); anything else is logged and ignored.
 *
 * @example
 * const revocation = createRevocationBus({ redis: new Redis(process.env.REDIS_URL) });
 * await revocation.ready;
 * const verifier = createApiKeyVerifier({ store, pepper, revocation });
 */
export function createRevocationBus(options: RedisRevocationBusOptions): RevocationBus {
  const { redis } = options;
  if (typeof redis?.publish !== 'function' || typeof redis.duplicate !== 'function') {
    throw new TypeError('createRevocationBus: redis must be an ioredis client');
  }
  const channel = options.channel ?? 'bulwark:api-key-revocations';
  if (typeof channel !== 'string' || !CHANNEL.test(channel)) throw new TypeError('createRevocationBus: channel must be 1–200 printable ASCII characters');
  const logger = options.logger ?? silentLogger;
  const ownsSubscriber = options.subscriber === undefined;
  const subscriber = options.subscriber ?? redis.duplicate();
  const origin = randomUUID();
  const listeners = new ListenerSet((error) => logger.error({ err: error }, 'a revocation listener threw'));

  let subscribed = false;
  let closed = false;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const subscribe = async (): Promise<void> => {
    await subscriber.subscribe(channel);
    if (closed) return;
    if (subscribed) {
      // Back after a disconnect: anything published meanwhile was lost.
      listeners.emit({ type: 'resync' });
      logger.info({ channel }, 'revocation subscription restored; verifier caches cleared');
    } else {
      subscribed = true;
      markReady();
    }
  };
  let attempt: Promise<void> | undefined;
  const trySubscribe = (): void => {
    if (attempt !== undefined || closed) return;
    attempt = subscribe()
      .catch((error: unknown) => logger.warn({ err: error, channel }, 'could not subscribe to revocation broadcasts; retrying on reconnect'))
      .finally(() => {
        attempt = undefined;
      });
  };

  const onMessage = (from: string, message: string): void => {
    if (from !== channel || closed) return;
    const decoded = decode(message);
    if (decoded === undefined) {
      logger.warn({ channel, bytes: message.length }, 'ignored a malformed revocation broadcast');
      return;
    }
    if (decoded.o === origin || decoded.ids.length === 0) return;
    listeners.emit({ type: 'invalidate', keyIds: decoded.ids });
  };
  // ioredis emits 'ready' on every (re)connection, before its own automatic re-subscription; our
  // explicit SUBSCRIBE resolves only once the subscription is live again, and only then do we resync.
  const onReady = (): void => trySubscribe();
  const onError = (error: unknown): void => logger.warn({ err: error, channel }, 'revocation subscriber connection error');

  subscriber.on('message', onMessage);
  subscriber.on('ready', onReady);
  subscriber.on('error', onError);
  // A connection that is still connecting would refuse SUBSCRIBE (no offline queue) and log a false
  // warning: its 'ready' event subscribes instead.
  if (subscriber.status === 'ready') trySubscribe();

  return {
    async publish(keyIds) {
      const ids = checkKeyIds(keyIds);
      if (ids.length === 0) return;
      listeners.emit({ type: 'invalidate', keyIds: ids });
      const message: WireMessage = { v: 1, o: origin, ids };
      await redis.publish(channel, JSON.stringify(message));
    },
    subscribe: (listener) => listeners.add(listener),
    ready,
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      if (ownsSubscriber) {
        // Our own connection keeps its error listener: while it is torn down (or still reconnecting
        // to a Redis that is down) ioredis may emit one more 'error', which without a listener
        // would print as an unhandled error event.
        if (subscriber.status === 'ready') await subscriber.quit().catch(() => subscriber.disconnect());
        else subscriber.disconnect();
      } else {
        await subscriber.unsubscribe(channel).catch(() => undefined);
        subscriber.off('error', onError);
      }
    },
  };
}
