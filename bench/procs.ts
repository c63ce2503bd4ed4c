/**
 * The stack's own processes: spawned with their output going straight to a log file (the bench process never
 * reads their pipes, so it adds no work of its own to theirs), waited for until ready, stopped in order; and
 * what Linux says about any process: resident memory (/proc/<pid>/status VmRSS, VmHWM) and CPU time
 * (/proc/<pid>/stat utime + stime, in clock ticks).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { sleep } from './stats';

/** Clock ticks per second (getconf CLK_TCK); 100 on every Linux this runs on. */
export const CLOCK_TICKS = 100;

export interface ProcSample {
  at: number;
  rssBytes: number;
  /** Peak resident memory so far (VmHWM). */
  hwmBytes: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

/** Memory and CPU of a process now, or undefined when it is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]); // fields 14 and 15: utime, stime
    return { at: Date.now(), rssBytes: kb('VmRSS') * 1024, hwmBytes: kb('VmHWM') * 1024, cpuTicks };
  } catch {
    return undefined;
  }
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU ticks of a process and everything under it: its own utime + stime, plus cutime + cstime (children it has
 * waited for, e.g. PostgreSQL backends that have exited), plus the live children's own ticks.
 */
export function treeTicks(rootPid: number): number {
  const root = statFields(rootPid);
  if (!root) return 0;
  let ticks = Number(root[11]) + Number(root[12]) + Number(root[13]) + Number(root[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f && Number(f[1]) === rootPid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks;
}

/** The process started with `-D <dataDir>` (PostgreSQL's postmaster). */
export function findProcessByDataDir(text: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = cmd.indexOf('-D');
      if (at >= 0 && cmd[at + 1] === text) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** CPU use between two samples of one process, as a share of one core (1 = one core busy). */
export function cpuCores(a: ProcSample, b: ProcSample): number {
  const seconds = (b.at - a.at) / 1000;
  return seconds > 0 ? (b.cpuTicks - a.cpuTicks) / CLOCK_TICKS / seconds : 0;
}

export interface ManagedProcessOptions {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
  /** Ready once this text appears in what it logs (from this start on)... */
  readyText?: string;
  /** ...or once this probe (e.g. an HTTP health check) resolves true. */
  readyProbe?: () => Promise<boolean>;
  readyTimeoutMs?: number;
}

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: string | undefined;
  /** CPU ticks of the generations stopped so far. */
  private pastTicks = 0;

  constructor(readonly o: ManagedProcessOptions) {}

  /** CPU ticks used by every generation of this process so far. */
  cpuTicks(): number {
    return this.pastTicks + (this.running && this.pid ? treeTicks(this.pid) : 0);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const offset = existsSync(this.o.logFile) ? statSync(this.o.logFile).size : 0;
    const fd = openSync(this.o.logFile, 'a');
    const child = spawn(process.execPath, this.o.args, {
      cwd: this.o.cwd,
      env: this.o.env,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    this.exitInfo = undefined;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitInfo = `${code ?? signal}`;
        resolve();
      }),
    );
    const deadline = Date.now() + (this.o.readyTimeoutMs ?? 180_000);
    for (;;) {
      if (this.exitInfo !== undefined)
        throw new Error(`${this.o.name} exited (${this.exitInfo}) before it was ready:\n${this.tail()}`);
      if (this.o.readyText && this.logFrom(offset).includes(this.o.readyText)) return;
      if (this.o.readyProbe && (await this.o.readyProbe())) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`${this.o.name} was not ready in time:\n${this.tail()}`);
      }
      await sleep(250);
    }
  }

  /** Whether it is still running. */
  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  /** SIGTERM, then SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo !== undefined) return;
    if (child.pid) this.pastTicks += treeTicks(child.pid);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }

  private logFrom(offset: number): string {
    try {
      return readFileSync(this.o.logFile).subarray(offset).toString('utf8');
    } catch {
      return '';
    }
  }

  /** The end of its log, for error messages. */
  tail(lines = 40): string {
    try {
      return readFileSync(this.o.logFile, 'utf8').slice(-20_000).split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}
