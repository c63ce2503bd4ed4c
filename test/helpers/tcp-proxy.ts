/**
 * A TCP proxy in front of a real server, to make it go away and come back: `down()` closes the listener and every
 * connection through it (clients then get ECONNREFUSED, as when the server is stopped), `up()` listens again on
 * the same port.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Sees what each client sends, per connection, before it is forwarded. */
export type ClientTap = (connection: number, chunk: Buffer) => void;

export async function startTcpProxy(
  target: { host: string; port: number },
  tap?: ClientTap,
): Promise<TcpProxy> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = async () => {
    const s = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.on('error', () => undefined);
      }
      const id = ++connections;
      if (tap) client.on('data', (chunk: Buffer) => tap(id, chunk));
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as net.AddressInfo).port;
    server = s;
  };
  await listen();
  const down = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise((resolve) => s.close(resolve));
  };
  return {
    get port() {
      return port;
    },
    down,
    up: async () => {
      if (!server) await listen();
    },
    close: down,
  };
}
