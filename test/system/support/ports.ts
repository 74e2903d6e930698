import { createServer } from 'node:net';

/**
 * A TCP port that was free on 127.0.0.1 a moment ago: the kernel picks it (`listen(0)`), the probe
 * closes, the caller binds it. Used for servers that must be told their port up front
 * (`redis-server --port`); the gateway itself binds port 0 and reports what it got.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      if (address === null || typeof address === 'string') {
        probe.close();
        reject(new Error('the probe server has no TCP address'));
        return;
      }
      probe.close(() => resolve(address.port));
    });
  });
}
