import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { createPostgresConnector } from '../connectors/postgres';
import { startSandboxPostgres, sandboxStateFile, type SandboxPostgres } from '../devstack/postgres';
import {
  SandboxDirNotAccessibleError,
  SandboxInUseError,
  SandboxNotAClusterError,
  SandboxPasswordLostError,
  SandboxStartError,
} from '../devstack/postgres-errors';
import { DEMO_ROLES, seedSandbox } from '../devstack/sandbox-seed';

const log = pino({ level: 'silent' });
const isRoot = process.getuid?.() === 0;
const identities = [
  { email: 'alice@example.com', account: 'alice' },
  { email: 'bob@example.com', account: 'bob' },
];

async function query<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Running, not merely unreaped: an orphan's zombie may linger when PID 1 is slow to reap (as in some containers). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
      } catch {
        return false;
      }
    });
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number.parseInt(
    (await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]!,
    10,
  );
}

describe('sandbox PostgreSQL', () => {
  let root: string;
  let dataDir: string;
  let sandbox: SandboxPostgres | undefined;
  let held: net.Server;
  let heldPort: number;

  const start = async (port = 0) => (sandbox = await startSandboxPostgres({ dataDir, port, log }));
  const stop = async () => {
    await sandbox?.stop();
    sandbox = undefined;
  };

  before(async () => {
    // Like a checkout owned by root: PostgreSQL's OS user may enter it but not write in it.
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'grantflow-sandbox-'));
    await fs.chmod(root, 0o755);
    dataDir = path.join(root, '.grantflow', 'sandbox-pg');
    held = net.createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    heldPort = (held.address() as net.AddressInfo).port;
  });

  after(async () => {
    await stop();
    await new Promise((resolve) => held.close(resolve));
    await fs.rm(root, { recursive: true, force: true });
  });

  it('starts in a root-owned folder, avoiding a taken port, listening on 127.0.0.1 only', async () => {
    const pg = await start(heldPort);
    assert.notEqual(pg.port, heldPort);
    assert.equal(new URL(pg.adminUrl).hostname, '127.0.0.1');
    const [row] = await query<{ listen: string }>(pg.adminUrl, 'select current_setting($1) as listen', [
      'listen_addresses',
    ]);
    assert.equal(row!.listen, '127.0.0.1');
    const stateMode = (await fs.stat(sandboxStateFile(dataDir))).mode & 0o777;
    assert.equal(stateMode, 0o600);
    assert.equal(sandboxStateFile(dataDir), path.join(root, '.grantflow', 'sandbox-pg.json'));
    if (isRoot) {
      const postgresUid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout);
      assert.equal((await fs.stat(dataDir)).uid, postgresUid);
      assert.equal((await fs.stat(root)).mode & 0o777, 0o755); // the checkout itself is left alone
    }
  });

  it('seeds idempotently; a demo login connects but cannot read the demo table before a grant', async () => {
    const first = await seedSandbox(sandbox!.adminUrl, identities);
    const second = await seedSandbox(sandbox!.adminUrl, identities);
    assert.deepEqual(second.passwords, first.passwords);
    assert.equal(first.demoDatabase, 'demo');
    const demoAdmin = new URL(sandbox!.adminUrl);
    demoAdmin.pathname = '/demo';
    const [count] = await query<{ n: number }>(
      demoAdmin.toString(),
      'select count(*)::int as n from public.incidents',
    );
    assert.equal(count!.n, 4);
    const roles = await query<{ rolname: string; rolcanlogin: boolean }>(
      sandbox!.adminUrl,
      'select rolname, rolcanlogin from pg_roles where rolname = any($1) order by rolname',
      [['alice', 'bob', DEMO_ROLES.readonly, DEMO_ROLES.readwrite]],
    );
    assert.deepEqual(
      roles.map((r) => [r.rolname, r.rolcanlogin]),
      [
        ['alice', true],
        ['bob', true],
        ['readonly', false],
        ['readwrite', false],
      ],
    );

    const [me] = await query<{ user: string }>(first.databaseUrlFor('alice'), 'select current_user as user');
    assert.equal(me!.user, 'alice');
    await assert.rejects(query(first.databaseUrlFor('alice'), 'select * from public.incidents'), {
      code: '42501',
    });
    assert.throws(() => first.databaseUrlFor('mallory'), /mallory/);
  });

  it('grants through the connector give the logins access via the group roles only', async () => {
    const seed = await seedSandbox(sandbox!.adminUrl, identities);
    const connector = createPostgresConnector(
      'sandbox',
      {
        type: 'postgres',
        mode: 'membership',
        url: sandbox!.adminUrl,
        permissions: { read: { role: DEMO_ROLES.readonly }, write: { role: DEMO_ROLES.readwrite } },
        terminateSessions: true,
        userPrefix: 'gf_',
      },
      { log },
    );
    try {
      const expiresAt = new Date(Date.now() + 60_000);
      await connector.grant({
        target: { integration: 'sandbox', account: 'alice', permission: 'read' },
        requestId: 'r1',
        expiresAt,
      });
      await connector.grant({
        target: { integration: 'sandbox', account: 'bob', permission: 'write' },
        requestId: 'r2',
        expiresAt,
      });
    } finally {
      await connector.close();
    }
    assert.equal((await query(seed.databaseUrlFor('alice'), 'select * from public.incidents')).length, 4);
    await assert.rejects(
      query(
        seed.databaseUrlFor('alice'),
        `insert into public.incidents (title, severity) values ('x', 'low')`,
      ),
      { code: '42501' },
    );
    await query(
      seed.databaseUrlFor('bob'),
      `insert into public.incidents (title, severity) values ('Bob was here', 'low')`,
    );
  });

  it('restarts on the same data folder with its data, memberships and passwords', async () => {
    const before = await seedSandbox(sandbox!.adminUrl, identities);
    const adminPassword = new URL(sandbox!.adminUrl).password;
    await stop();
    const pg = await start();
    assert.equal(new URL(pg.adminUrl).password, adminPassword);
    const after = await seedSandbox(pg.adminUrl, identities);
    assert.deepEqual(after.passwords, before.passwords);
    const rows = await query<{ title: string }>(
      after.databaseUrlFor('alice'),
      'select title from public.incidents',
    );
    assert.equal(rows.length, 5);
    assert.ok(rows.some((r) => r.title === 'Bob was here'));
  });

  it('recovers from a server that crashed, even with a child process stuck holding its memory', async () => {
    const crashed = await postmasterPid(dataDir);
    const stuck = childrenOf(crashed)[0]!;
    process.kill(stuck, 'SIGSTOP'); // cannot notice its parent's death, so it keeps the shared memory attached
    process.kill(crashed, 'SIGKILL');
    const began = Date.now();
    await stop(); // the server is already gone: stop must not wait for it
    assert.ok(Date.now() - began < 2_000);
    const pg = await start();
    assert.ok(!isAlive(stuck), 'the stuck child was ended');
    assert.notEqual(await postmasterPid(dataDir), crashed);
    assert.equal((await query(pg.adminUrl, 'select 1')).length, 1);
  });

  it('shuts down a server orphaned by a killed process and starts afresh', async () => {
    await stop();
    const child = spawn(
      process.execPath,
      [
        '-r',
        require.resolve('tsx/cjs'),
        '-e',
        `
        const { startSandboxPostgres } = require(${JSON.stringify(require.resolve('../devstack/postgres'))});
        startSandboxPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: 0, log: require('pino')({ level: 'silent' }) })
          .then((pg) => { console.log('READY ' + pg.port); setInterval(() => {}, 1000); });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => String(chunk).includes('READY') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    const orphan = await postmasterPid(dataDir);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.ok(isAlive(orphan), 'the server outlives the killed process');

    const pg = await start();
    assert.ok(!isAlive(orphan), 'the orphan was shut down');
    assert.notEqual(await postmasterPid(dataDir), orphan);
    const [demo] = await query<{ n: number }>(
      pg.adminUrl,
      'select count(*)::int as n from pg_database where datname = $1',
      ['demo'],
    );
    assert.equal(demo!.n, 1, 'the data survived');
  });

  it('refuses a data folder whose server this process is still running', async () => {
    assert.ok(sandbox, 'started by the test before');
    await assert.rejects(startSandboxPostgres({ dataDir, port: 0, log }), SandboxInUseError);
    assert.equal((await query(sandbox.adminUrl, 'select 1')).length, 1, 'the running server is left alone');
  });

  it('explains a data folder that is not a cluster, a lost password file, and a server that will not start', async () => {
    const junk = path.join(root, 'junk');
    await fs.mkdir(junk);
    await fs.writeFile(path.join(junk, 'notes.txt'), 'hello');
    await assert.rejects(startSandboxPostgres({ dataDir: junk, port: 0, log }), SandboxNotAClusterError);

    await stop();
    const stateFile = sandboxStateFile(dataDir);
    await fs.rename(stateFile, `${stateFile}.bak`);
    try {
      await assert.rejects(
        start(),
        (err: unknown) => err instanceof SandboxPasswordLostError && err.message.includes(stateFile),
      );
    } finally {
      await fs.rename(`${stateFile}.bak`, stateFile);
    }
    await assert.rejects(
      startSandboxPostgres({ dataDir, port: 0, log, settings: { max_connections: 'lots' } }),
      (err: unknown) => err instanceof SandboxStartError && /max_connections/.test(err.message),
    );
  });

  it("names the folder that PostgreSQL's OS user cannot enter (as root)", async function () {
    if (!isRoot) this.skip();
    const locked = await fs.mkdtemp(path.join(os.tmpdir(), 'grantflow-locked-')); // mode 700, owned by root
    try {
      await assert.rejects(
        startSandboxPostgres({ dataDir: path.join(locked, 'pg'), port: 0, log }),
        (err: unknown) => err instanceof SandboxDirNotAccessibleError && err.blockedAt === locked,
      );
    } finally {
      await fs.rm(locked, { recursive: true, force: true });
    }
  });
});
