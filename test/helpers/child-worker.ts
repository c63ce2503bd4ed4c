/**
 * Runs test/fixtures/worker-process.ts as a child process of its own, so a test can SIGKILL it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Harness } from './harness';

export interface ChildWorker {
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startChildWorker(h: Harness, readyTimeoutMs = 60_000): Promise<ChildWorker> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-child-'));
  const configFile = path.join(dir, 'grantflow.yaml');
  writeFileSync(configFile, h.configYaml);
  const child = spawn(
    process.execPath,
    ['-r', 'tsx/cjs', path.join(__dirname, '../fixtures/worker-process.ts')],
    {
      env: {
        ...process.env,
        ...h.configEnv,
        GF_CONFIG_FILE: configFile,
        GF_STORE_FILE: h.storeFile,
        TEMPORAL_ADDRESS: h.temporal.address,
        TEMPORAL_NAMESPACE: h.temporal.namespace,
        GRANTFLOW_LOG_PRETTY: '0',
        GRANTFLOW_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker not ready in ${readyTimeoutMs} ms:\n${out}`)),
      readyTimeoutMs,
    );
    child.stdout?.on('data', () => {
      if (out.includes('worker-ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code}) before ready:\n${out}`));
    });
  });
  return {
    child,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
