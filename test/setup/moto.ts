/**
 * One moto server (PyPI `moto[server]`, the AWS API emulator) per mocha process, on a free loopback port, started on
 * first use and shared. The root hooks call stopTestMoto() after the run; a process that exits first kills it.
 * moto keeps its state in memory only, so there is no folder to clean; reset() empties it. It accepts any
 * credentials: tests put dummy ones in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for the SDK's provider chain.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

export interface TestMoto {
  /** http://127.0.0.1:PORT, for the SDK's `endpoint`. */
  endpoint: string;
  port: number;
  /** Forgets everything created so far (POST /moto-api/reset). */
  reset(): Promise<void>;
}

interface Running {
  child: ChildProcess;
  api: TestMoto;
}

const START_TIMEOUT_MS = 20_000;
let running: Promise<Running> | undefined;

/** The shared moto server, started on the first call (under a second) and reused after. */
export async function getTestMoto(): Promise<TestMoto> {
  running ??= start().catch((err: unknown) => {
    running = undefined; // let a later test try again rather than repeat this failure
    throw err;
  });
  return (await running).api;
}

/** Stops the shared moto server, if started. */
export async function stopTestMoto(): Promise<void> {
  const current = running;
  running = undefined;
  if (!current) return;
  const started = await current.catch(() => undefined);
  if (started) await stop(started.child);
}

async function start(): Promise<Running> {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`));
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const outcome = await Promise.race([exited.then((why) => ({ why })), answers(endpoint)]);
    if (outcome === true) break;
    if (typeof outcome === 'object' || Date.now() > deadline) {
      child.kill('SIGKILL');
      const why = typeof outcome === 'object' ? outcome.why : `did not answer within ${START_TIMEOUT_MS} ms`;
      const hint = /No module named/.test(stderr)
        ? " (install it: python3 -m pip install 'moto[server]')"
        : '';
      throw new Error(`moto server ${why}${hint}\n${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const api: TestMoto = {
    endpoint,
    port,
    reset: async () => {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
    },
  };
  return { child, api };
}

/** True once moto answers HTTP; false while it is still starting. */
async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await gone;
  clearTimeout(timer);
}

/** A free TCP port on 127.0.0.1: bound, then released for moto to take. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
