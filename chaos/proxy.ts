/**
 * Starts chaos/proxy-process.ts and drives it: the same `down()` / `up()` / `close()` as test/helpers/tcp-proxy.ts.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import type { TcpProxy } from '../test/helpers/tcp-proxy';

interface Reply {
  id: number;
  ok: boolean;
  port?: number;
  error?: string;
}

export async function startProxyProcess(target: { host: string; port: number }): Promise<TcpProxy> {
  const child = fork(path.join(__dirname, 'proxy-process.ts'), [], {
    cwd: path.join(__dirname, '..'),
    execArgv: ['-r', 'tsx/cjs'],
    env: { ...process.env, GF_PROXY_HOST: target.host, GF_PROXY_PORT: String(target.port) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killOnExit = () => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  const waiting = new Map<number, (r: Reply) => void>();
  child.on('message', (r: Reply) => waiting.get(r.id)?.(r));
  const reply = (id: number) =>
    new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the proxy process did not answer')), 30_000);
      waiting.set(id, (r) => {
        clearTimeout(timer);
        waiting.delete(id);
        if (r.ok) resolve(r);
        else reject(new Error(`proxy: ${r.error}`));
      });
    });
  const port = (await reply(0)).port as number;
  let next = 0;
  const send = async (cmd: 'down' | 'up' | 'close') => {
    if (!child.connected) return;
    const id = ++next;
    const answered = reply(id);
    child.send({ id, cmd });
    await answered;
  };
  return {
    port,
    down: () => send('down'),
    up: () => send('up'),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await send('close').catch(() => child.kill('SIGKILL'));
      await exited;
    },
  };
}
