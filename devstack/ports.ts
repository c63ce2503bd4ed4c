import net from 'node:net';
import { PortTakenError } from './dev-errors';

/** Whether a TCP port on 127.0.0.1 can be listened on now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port the OS says is free now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Reads a port from the environment, refusing a taken one with the name of the variable that moves it. */
export async function requirePort(envName: string, fallback: number): Promise<number> {
  const port = Number(process.env[envName] ?? fallback);
  if (!(await isPortFree(port))) throw new PortTakenError(port, envName);
  return port;
}
