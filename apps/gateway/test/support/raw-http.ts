import { connect } from 'node:net';

/**
 * Sends a request head (and optionally part of a body) over a plain socket and returns the status
 * line and the rest of the response. For what an HTTP client library refuses to send: a declared
 * Content-Length far larger than the bytes that follow.
 */
export function rawRequest(port: number, head: string, body = ''): Promise<{ readonly status: number; readonly response: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', (error) => (data === '' ? reject(error) : undefined));
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), response: data }));
    socket.write(head + body);
  });
}
