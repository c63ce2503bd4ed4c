/**
 * Seeds the sandbox PostgreSQL with something to request access to: a `demo` database with a table, the group
 * roles that carry access to it, and a login per demo account that has none of its own. Safe to run on every start.
 */
import { createHmac } from 'node:crypto';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';

/** The database people request access to. */
export const DEMO_DATABASE = 'demo';
/** Group roles (NOLOGIN) that carry access to the demo tables; a grant makes an account a member of one. */
export const DEMO_ROLES = { readonly: 'readonly', readwrite: 'readwrite' } as const;

export interface SandboxIdentity {
  email: string;
  /** The person's login role in the sandbox database. */
  account: string;
}

export interface SandboxSeed {
  /** postgres:// URL of the demo database as that account; holds its password. Throws for an account not seeded. */
  databaseUrlFor(account: string): string;
  demoDatabase: string;
  /** Password of each seeded account, stable for a given sandbox (derived from its superuser password). */
  passwords: Record<string, string>;
}

const DEMO_ROWS: [string, string][] = [
  ['Checkout latency above 2 s', 'high'],
  ['Nightly export job failed', 'medium'],
  ['Certificate expires in 10 days', 'low'],
  ['Replica lag on orders database', 'high'],
];

/** Role names the seed must not turn into demo logins. */
const RESERVED = new Set<string>(['postgres', 'public', DEMO_ROLES.readonly, DEMO_ROLES.readwrite]);

/** PostgreSQL error codes for "already exists", met when two seeds race. */
const ALREADY_EXISTS = new Set(['42710', '42P04']);

/**
 * Creates (or brings up to date) the demo database, its group roles, and a login per identity, then returns how to
 * connect as each. Logins get CONNECT on the demo database and nothing else: table access comes only from a grant.
 */
export async function seedSandbox(adminUrl: string, identities: SandboxIdentity[]): Promise<SandboxSeed> {
  const passwords = derivePasswords(adminUrl, identities);
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    if (!(await exists(admin, 'select 1 from pg_database where datname = $1', DEMO_DATABASE))) {
      await ignoreExisting(admin.query(`create database ${escapeIdentifier(DEMO_DATABASE)}`));
    }
    for (const role of Object.values(DEMO_ROLES)) await ensureRole(admin, role, 'nologin');
    for (const { email, account } of identities) {
      await ensureRole(admin, account, `login password ${escapeLiteral(passwords[account]!)}`);
      await admin.query(
        `comment on role ${escapeIdentifier(account)} is ${escapeLiteral(`Grantflow demo login of ${email}`)}`,
      );
    }
    await grantConnect(admin, Object.keys(passwords));
  } finally {
    await admin.end();
  }
  await seedDemoDatabase(withDatabase(adminUrl, DEMO_DATABASE), Object.keys(passwords));
  return {
    demoDatabase: DEMO_DATABASE,
    passwords,
    databaseUrlFor(account: string): string {
      const password = passwords[account];
      if (password === undefined) throw new Error(`No sandbox login was seeded for the account "${account}"`);
      const url = new URL(withDatabase(adminUrl, DEMO_DATABASE));
      url.username = encodeURIComponent(account);
      url.password = encodeURIComponent(password);
      return url.toString();
    },
  };
}

/** Passwords derived from the superuser password: stable across restarts of one sandbox, different between sandboxes. */
function derivePasswords(adminUrl: string, identities: SandboxIdentity[]): Record<string, string> {
  const key = decodeURIComponent(new URL(adminUrl).password) || adminUrl;
  const passwords: Record<string, string> = {};
  for (const { account } of identities) {
    if (!account || Buffer.byteLength(account) > 63)
      throw new Error(`Invalid sandbox account name "${account}"`);
    if (RESERVED.has(account)) throw new Error(`The sandbox account name "${account}" is reserved`);
    passwords[account] = createHmac('sha256', key)
      .update(`grantflow-sandbox-login:${account}`)
      .digest('base64url');
  }
  return passwords;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

async function exists(client: Client, sql: string, value: string): Promise<boolean> {
  return ((await client.query(sql, [value])).rowCount ?? 0) > 0;
}

async function ignoreExisting(query: Promise<unknown>): Promise<void> {
  try {
    await query;
  } catch (err) {
    if (!ALREADY_EXISTS.has((err as { code?: string }).code ?? '')) throw err;
  }
}

/** CREATE ROLE has no IF NOT EXISTS; an existing role gets its attributes (and password) set again instead. */
async function ensureRole(client: Client, role: string, attributes: string): Promise<void> {
  const name = escapeIdentifier(role);
  if (!(await exists(client, 'select 1 from pg_roles where rolname = $1', role))) {
    await ignoreExisting(client.query(`create role ${name} ${attributes}`));
  }
  await client.query(`alter role ${name} ${attributes}`);
}

async function grantConnect(client: Client, accounts: string[]): Promise<void> {
  const db = escapeIdentifier(DEMO_DATABASE);
  await client.query(`revoke connect on database ${db} from public`);
  for (const account of accounts)
    await client.query(`grant connect on database ${db} to ${escapeIdentifier(account)}`);
}

async function seedDemoDatabase(url: string, accounts: string[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`create table if not exists public.incidents (
      id integer generated always as identity primary key,
      title text not null,
      severity text not null check (severity in ('low', 'medium', 'high')),
      opened_at timestamptz not null default now(),
      resolved boolean not null default false
    )`);
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from public.incidents');
    if (rows[0]!.n === 0) {
      for (const [title, severity] of DEMO_ROWS) {
        await client.query('insert into public.incidents (title, severity) values ($1, $2)', [
          title,
          severity,
        ]);
      }
    }
    await grantTableAccess(client, accounts);
  } finally {
    await client.end();
  }
}

async function grantTableAccess(client: Client, accounts: string[]): Promise<void> {
  const ro = escapeIdentifier(DEMO_ROLES.readonly);
  const rw = escapeIdentifier(DEMO_ROLES.readwrite);
  await client.query(`grant usage on schema public to ${ro}, ${rw}`);
  await client.query(`grant select on all tables in schema public to ${ro}`);
  await client.query(`grant select, insert, update, delete on all tables in schema public to ${rw}`);
  // Tables added to the demo later carry the same access.
  await client.query(`alter default privileges in schema public grant select on tables to ${ro}`);
  await client.query(
    `alter default privileges in schema public grant select, insert, update, delete on tables to ${rw}`,
  );
  // Access must come only through a granted role, whatever was granted by hand before.
  for (const account of accounts) {
    await client.query(`revoke all on all tables in schema public from ${escapeIdentifier(account)}`);
  }
}
