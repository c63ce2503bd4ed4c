/**
 * The TCP proxy between the connector and PostgreSQL (test/helpers/tcp-proxy.ts), in a process of its own: the
 * run's main process blocks now and then (its SQLite store waits for the worker's write lock synchronously), and
 * a proxy in it would then stall the very connector calls the worker holds that lock for. Driven over IPC:
 * `down`, `up`, `close`; answers `{ ok, port }`. Exits when its parent goes away.
 */
import { startTcpProxy } from '../test/helpers/tcp-proxy';

async function main(): Promise<void> {
  const [host, port] = [process.env.GF_PROXY_HOST ?? '127.0.0.1', Number(process.env.GF_PROXY_PORT)];
  const proxy = await startTcpProxy({ host, port });
  process.on('message', (msg: { id: number; cmd: 'down' | 'up' | 'close' }) => {
    void (async () => {
      try {
        if (msg.cmd === 'down') await proxy.down();
        else if (msg.cmd === 'up') await proxy.up();
        else await proxy.close();
        process.send?.({ id: msg.id, ok: true, port: proxy.port });
        if (msg.cmd === 'close') process.disconnect();
      } catch (err) {
        process.send?.({ id: msg.id, ok: false, error: String(err) });
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ id: 0, ok: true, port: proxy.port });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
