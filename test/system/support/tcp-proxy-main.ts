import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/**
 * The child-process side of `startTcpProxyProcess` (tcp-proxy-process.ts): a TCP proxy driven over
 * IPC. Argument: the target as `host:port`. Messages in: `{ id, op, ms? }`; out: `{ ready: port }`
 * once listening, then `{ id }` when an operation is done.
 */
const [host = '127.0.0.1', portText = ''] = (process.argv[2] ?? '').split(':');
const proxy: TcpProxy = await startTcpProxy({ host, port: Number(portText) });

interface Command {
  readonly id: number;
  readonly op: 'delayReplies' | 'refuse' | 'partition' | 'restore' | 'nextHeld' | 'close';
  readonly ms?: number;
}

process.on('message', (message: Command) => {
  const done = (): void => {
    process.send?.({ id: message.id });
  };
  switch (message.op) {
    case 'delayReplies':
      proxy.delayReplies(message.ms ?? 0);
      return done();
    case 'partition':
      proxy.partition();
      return done();
    case 'refuse':
      return void proxy.refuse().then(done);
    case 'restore':
      return void proxy.restore().then(done);
    case 'nextHeld':
      return void proxy.nextHeld().then(done);
    case 'close':
      return void proxy.close().then(() => {
        done();
        process.disconnect();
      });
  }
});
process.send?.({ ready: proxy.port });
