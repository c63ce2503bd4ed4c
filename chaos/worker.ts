/**
 * Supervises the worker process (chaos/worker-process.ts), the way systemd or Kubernetes would: start it and wait
 * until it polls, SIGKILL it when a fault says so, and start a new one when it exits on its own (which the
 * report counts, with the tail of its output). Every generation's output goes to one log file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';

const ENTRY = path.join(__dirname, 'worker-process.ts');
const ROOT = path.join(__dirname, '..');

export interface UnexpectedExit {
  at: number;
  generation: number;
  code: number | null;
  signal: string | null;
  tail: string;
}

export interface WorkerSupervisorOptions {
  env: NodeJS.ProcessEnv;
  logFile: string;
  readyTimeoutMs?: number;
}

export class WorkerSupervisor {
  private child: ChildProcess | undefined;
  private generation = 0;
  private expectedExit = false;
  private stopped = false;
  private restarting: Promise<void> | undefined;
  readonly unexpectedExits: UnexpectedExit[] = [];
  /** Told when the worker was down through no fault of ours: from when, to when it was back. */
  onOutage: ((from: number, to: number) => void) | undefined;

  constructor(private readonly o: WorkerSupervisorOptions) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts a worker and resolves once it polls; tries again (a Temporal that is down makes it exit early). */
  async start(deadlineMs = 180_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      try {
        await this.spawnOnce();
        return;
      } catch (err) {
        if (this.stopped || Date.now() > deadline) throw err;
        this.log(`start failed, trying again: ${String(err).split('\n')[0]}`);
        await sleep(1_000);
      }
    }
  }

  /** SIGKILL: no shutdown of any kind, as when the machine dies. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectedExit = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops for good (SIGTERM, then SIGKILL after 10 s). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.restarting?.catch(() => undefined);
    const child = this.child;
    if (!child) return;
    this.expectedExit = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private log(line: string): void {
    appendFileSync(this.o.logFile, `=== ${new Date().toISOString()} supervisor: ${line}\n`);
  }

  private spawnOnce(): Promise<void> {
    const generation = ++this.generation;
    this.log(`starting worker #${generation}`);
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', ENTRY], {
      cwd: ROOT,
      env: { ...this.o.env, GRANTFLOW_LOG_PRETTY: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A run that is interrupted must not leave a worker behind.
    const killOnExit = () => void child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    let tail = '';
    const onData = (d: Buffer) => {
      appendFileSync(this.o.logFile, d);
      tail = (tail + d.toString()).slice(-4_000);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const readyTimeoutMs = this.o.readyTimeoutMs ?? 90_000;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`worker #${generation} not ready in ${readyTimeoutMs} ms`));
      }, readyTimeoutMs);
      child.stdout?.on('data', () => {
        if (!ready && tail.includes('worker-ready')) {
          ready = true;
          clearTimeout(timer);
          this.child = child;
          this.expectedExit = false;
          this.log(`worker #${generation} ready (pid ${child.pid})`);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!ready) {
          reject(new Error(`worker #${generation} exited (${code ?? signal}) before it was ready:\n${tail}`));
          return;
        }
        this.child = undefined;
        this.log(
          `worker #${generation} exited (${code ?? signal})${this.expectedExit ? '' : ' UNEXPECTEDLY'}`,
        );
        if (this.expectedExit || this.stopped) return;
        const at = Date.now();
        this.unexpectedExits.push({ at, generation, code, signal, tail });
        this.restarting = sleep(1_000)
          .then(() => (this.stopped ? undefined : this.start()))
          .then(() => this.onOutage?.(at, Date.now()))
          .catch((err: unknown) => this.log(`could not restart: ${String(err)}`));
      });
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
