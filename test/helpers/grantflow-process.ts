/**
 * Long-running `grantflow` processes (worker, server) for tests: started from the built bin, ready once their
 * output says so, with their output kept for a failing test and killed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Harness } from './harness';
import { BIN } from './run-cli';
import { until } from './until';

/** Seconds a process may take to start (the worker bundles the workflows first). */
const START_TIMEOUT_S = Number(process.env.GF_TEST_PROCESS_START_TIMEOUT ?? 60);

export interface GrantflowProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** The processes one test file starts: launch them, print their output when a test fails, kill what is left. */
export class GrantflowProcesses {
  private readonly all: GrantflowProcess[] = [];

  /** Starts `grantflow <args>` and resolves once its output matches `ready`. */
  async launch(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<GrantflowProcess> {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    const proc: GrantflowProcess = {
      child,
      output: () => out,
      exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    };
    this.all.push(proc);
    await until(
      `grantflow ${args.join(' ')} to be ready`,
      () => {
        if (child.exitCode !== null)
          throw new Error(`grantflow ${args[0]} exited (${child.exitCode}):\n${out}`);
        return ready.test(out);
      },
      START_TIMEOUT_S * 1000,
    );
    return proc;
  }

  /** Every process's output, for a test that failed. */
  printOutputs(): void {
    for (const p of this.all) console.error(`--- ${p.child.spawnargs.slice(2).join(' ')}\n${p.output()}`);
  }

  killAll(): void {
    for (const p of this.all)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
}

/**
 * The environment for `grantflow worker` / `server` processes on a test harness's Temporal and config, with
 * Grantflow's tables in the PostgreSQL database `storeUrl`, info logs, and no OTEL_* setting inherited.
 */
export function grantflowProcessEnv(h: Harness, storeUrl: string, tag: string): NodeJS.ProcessEnv {
  const configFile = path.join(mkdtempSync(path.join(os.tmpdir(), `gf-${tag}-`)), 'grantflow.yaml');
  writeFileSync(configFile, h.configYaml);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...h.configEnv,
    DATABASE_URL: storeUrl,
    GRANTFLOW_CONFIG: configFile,
    GRANTFLOW_DATA_DIR: path.dirname(configFile),
    TEMPORAL_ADDRESS: h.temporal.address,
    TEMPORAL_NAMESPACE: h.temporal.namespace,
    GRANTFLOW_HOST: '127.0.0.1',
    GRANTFLOW_LOG_PRETTY: '0',
    GRANTFLOW_LOG_LEVEL: 'info',
  };
  for (const name of Object.keys(env)) if (name.startsWith('OTEL_')) delete env[name];
  return env;
}
