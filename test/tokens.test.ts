/**
 * API tokens: issuing, authenticating and revoking through core/tokens on SQLite and PostgreSQL, the token rows
 * as the store keeps them (times, case, unicode), and the `grantflow tokens` commands as a person runs them (the
 * built bin).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadConfig } from '../config/load';
import type { GrantflowConfig } from '../config/types';
import { UnknownIdentityError, TokenNotFoundError } from '../core/errors';
import { authenticateToken, hashToken, issueToken, revokeToken } from '../core/tokens';
import type { Store } from '../store/types';
import { runCli } from './helpers/run-cli';
import { describeDialects, SQLITE_FILE } from './helpers/store-dialects';

const ROOT = path.join(__dirname, '..');
const CONFIG_FILE = path.join(ROOT, 'grantflow.yaml');
const CONFIG_ENV = { GRANTFLOW_SANDBOX_DB_URL: 'postgres://sandbox:unused@127.0.0.1:1/sandbox' };

/** Every stored value of api_tokens, as one string to search. */
async function tableText(store: Store): Promise<string> {
  return JSON.stringify(await store.knex('api_tokens').select('*'));
}

describeDialects('API tokens', (db) => {
  let store: Store;
  let config: GrantflowConfig;
  const ctx = () => ({ store, config: () => config });

  before(async () => {
    config = loadConfig(CONFIG_FILE, { ...process.env, ...CONFIG_ENV }, { resolveSecrets: false });
    ({ store } = await db.fresh('tokens'));
  });

  it('issues a token that authenticates as its identity, and stores only its hash', async () => {
    const { id, token } = await issueToken(ctx(), {
      email: 'Alice@Example.com',
      name: 'ci',
      createdBy: 'carol@example.com',
    });
    assert.match(id, /^tok_[0-9a-z]{12}$/);
    assert.match(token, /^gft_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await authenticateToken(store, token), { email: 'alice@example.com', tokenId: id });

    const text = await tableText(store);
    assert.ok(!text.includes(token), 'the token is stored');
    assert.ok(!text.includes(token.slice(4)), 'the token body is stored');
    assert.ok(text.includes(hashToken(token)), 'the hash is not stored');
  });

  it('refuses a wrong, altered, malformed or revoked token', async () => {
    const { id, token } = await issueToken(ctx(), {
      email: 'bob@example.com',
      createdBy: 'bob@example.com',
    });
    const other = await issueToken(ctx(), { email: 'bob@example.com', createdBy: 'bob@example.com' });
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    for (const wrong of [
      token.slice(0, -1) + last,
      `gft_${'A'.repeat(43)}`,
      token.slice(4),
      `${token} `,
      '',
      hashToken(token),
    ])
      assert.equal(await authenticateToken(store, wrong), undefined, wrong);

    await revokeToken(store, id);
    assert.equal(await authenticateToken(store, token), undefined);
    // Revoking one token leaves the person's other tokens working.
    assert.equal((await authenticateToken(store, other.token))?.tokenId, other.id);
    await assert.rejects(revokeToken(store, id), TokenNotFoundError);
    await assert.rejects(revokeToken(store, 'tok_nosuchtoken0'), TokenNotFoundError);
  });

  it('refuses to issue a token for someone who is not an identity', async () => {
    await assert.rejects(
      issueToken(ctx(), { email: 'mallory@example.com', createdBy: 'carol@example.com' }),
      UnknownIdentityError,
    );
    assert.equal((await store.listApiTokens('mallory@example.com')).length, 0);
  });

  it('records last use at most once a minute', async () => {
    const { id, token } = await issueToken(ctx(), {
      email: 'carol@example.com',
      createdBy: 'carol@example.com',
    });
    const t0 = new Date('2030-01-01T00:00:00.000Z');
    const lastUsed = async () =>
      (await store.listApiTokens('carol@example.com')).find((t) => t.id === id)?.lastUsedAt;
    assert.equal(await lastUsed(), undefined);
    await authenticateToken(store, token, t0);
    assert.equal(await lastUsed(), t0.toISOString());
    await authenticateToken(store, token, new Date(t0.getTime() + 59_000));
    assert.equal(await lastUsed(), t0.toISOString());
    const later = new Date(t0.getTime() + 60_000);
    await authenticateToken(store, token, later);
    assert.equal(await lastUsed(), later.toISOString());
  });

  it('lists tokens newest first, per person, without hashes', async () => {
    const all = await store.listApiTokens();
    assert.ok(all.length >= 4);
    for (const t of all) {
      assert.ok(!('tokenHash' in t) && !('token_hash' in t), JSON.stringify(t));
      assert.doesNotMatch(JSON.stringify(t), /[0-9a-f]{64}/);
    }
    const sorted = [...all].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    assert.deepEqual(
      all.map((t) => t.createdAt),
      sorted.map((t) => t.createdAt),
    );
    const bobs = await store.listApiTokens('BOB@example.com');
    assert.equal(bobs.length, 2);
    assert.ok(bobs.every((t) => t.email === 'bob@example.com'));
    assert.equal(bobs.filter((t) => t.revokedAt !== undefined).length, 1);
  });

  it('keeps token rows with their times as given, and finds them by email in any case', async () => {
    const row = {
      id: 'tok_roundtrip000',
      tokenHash: 'f'.repeat(64),
      email: 'éva.ßtrand@example.com',
      name: 'Dëploy 😀 "bot"',
      createdBy: 'Carol@Example.com',
      createdAt: '2026-01-02T03:04:05.006Z',
    };
    await store.createApiToken(row);
    assert.deepEqual(await store.findApiTokenByHash(row.tokenHash), row);
    assert.equal(await store.findApiTokenByHash('F'.repeat(64)), undefined, 'hashes match exactly');
    const listed = () => store.listApiTokens(row.email);
    const { tokenHash: _hash, ...listedRow } = row;
    assert.deepEqual(await listed(), [listedRow]);
    assert.deepEqual(await store.listApiTokens('ÉVA.ßTRAND@EXAMPLE.COM'), [listedRow]);
    assert.deepEqual(await store.listApiTokens('Éva.ßtrand@Example.com'), [listedRow]);
    assert.deepEqual(await store.listApiTokens('eva.ßtrand@example.com'), [], 'accents matter');

    // Last use moves forward only, to the millisecond.
    await store.touchApiToken(row.id, new Date('2026-01-03T00:00:00.500Z'));
    await store.touchApiToken(row.id, new Date('2026-01-03T00:00:00.499Z'));
    assert.equal((await listed())[0].lastUsedAt, '2026-01-03T00:00:00.500Z');
    await store.touchApiToken(row.id, new Date('2026-01-03T00:00:00.501Z'));
    assert.equal((await listed())[0].lastUsedAt, '2026-01-03T00:00:00.501Z');

    const revokedAt = new Date('2026-01-04T05:06:07.089Z');
    assert.equal(await store.revokeApiToken(row.id, revokedAt), true);
    assert.equal(await store.revokeApiToken(row.id, new Date()), false, 'revoked once');
    assert.equal(await store.revokeApiToken('TOK_ROUNDTRIP000', new Date()), false, 'ids match exactly');
    assert.equal((await store.findApiTokenByHash(row.tokenHash))?.revokedAt, revokedAt.toISOString());

    // The store takes emails as given; one stored with capitals is found too (SQLite's lower() folds ASCII only).
    await store.createApiToken({
      ...row,
      id: 'tok_capitals0000',
      tokenHash: 'e'.repeat(64),
      email: 'Ünal@Example.com',
      createdAt: '2026-01-02T03:04:05.007Z',
    });
    assert.deepEqual(
      (await store.listApiTokens('ünal@example.com')).map((t) => t.id),
      ['tok_capitals0000'],
    );
  });

  it('lists tokens newest first, ties by id in code-point order', async () => {
    const at = '2027-01-01T00:00:00.000Z';
    const ids = ['tok_bbbbbbbbbbbb', 'tok_BBBBBBBBBBBB', 'tok_aaaaaaaaaaaa', 'tok_AAAAAAAAAAAA'];
    for (const [i, id] of ids.entries())
      await store.createApiToken({
        id,
        tokenHash: String(i).repeat(64),
        email: 'order@example.com',
        createdBy: 'order@example.com',
        createdAt: at,
      });
    assert.deepEqual(
      (await store.listApiTokens('order@example.com')).map((t) => t.id),
      ['tok_bbbbbbbbbbbb', 'tok_aaaaaaaaaaaa', 'tok_BBBBBBBBBBBB', 'tok_AAAAAAAAAAAA'],
    );
  });
});

describeDialects('grantflow tokens', function (db) {
  this.timeout(60_000);
  let env: NodeJS.ProcessEnv;
  let store: Store;

  const cli = (...args: string[]) => runCli(args, { env });

  before(async () => {
    // Migrated through the store: `grantflow migrate` also wants Temporal, which these commands do not.
    const { store: opened, target } = await db.fresh('tokens-cli');
    store = opened;
    const sqlite = db.dialect === 'sqlite';
    env = {
      ...process.env,
      ...CONFIG_ENV,
      GRANTFLOW_CONFIG: CONFIG_FILE,
      // The CLI opens GRANTFLOW_DATA_DIR/grantflow.sqlite unless DATABASE_URL is set.
      GRANTFLOW_DATA_DIR: sqlite ? path.dirname(target) : await db.tempDir('tokens-cli'),
      GRANTFLOW_USER: '',
      GRANTFLOW_LOG_PRETTY: '0',
    };
    delete env.DATABASE_URL;
    if (sqlite) assert.equal(path.basename(target), SQLITE_FILE);
    else env.DATABASE_URL = target;
  });

  it('creates (printing the token once), lists and revokes, auditing each without the token', async () => {
    const created = await cli('--as', 'alice@example.com', 'tokens', 'create', '--name', 'deploy bot');
    assert.equal(created.code, 0, created.stderr);
    const tokens = created.stdout.match(/gft_[A-Za-z0-9_-]{43}/g) ?? [];
    assert.equal(tokens.length, 1, created.stdout);
    const token = tokens[0];
    assert.match(created.stdout, /will not be shown again/);
    const id = /tok_[0-9a-z]{12}/.exec(created.stdout)?.[0];
    assert.ok(id, created.stdout);
    assert.deepEqual(await authenticateToken(store, token), { email: 'alice@example.com', tokenId: id });

    const json = await cli('--as', 'bob@example.com', 'tokens', 'create', '--json');
    assert.equal(json.code, 0, json.stderr);
    const bobs = JSON.parse(json.stdout) as { id: string; token: string; email: string };
    assert.equal(bobs.email, 'bob@example.com');
    assert.match(bobs.token, /^gft_/);

    const listed = await cli('tokens', 'list', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as Record<string, unknown>[];
    assert.deepEqual(rows.map((r) => r.id).sort(), [id, bobs.id].sort());
    for (const secret of [token, bobs.token, hashToken(token), hashToken(bobs.token)])
      assert.ok(!listed.stdout.includes(secret));
    const alices = await cli('tokens', 'list', '--user', 'alice@example.com');
    assert.equal(alices.code, 0, alices.stderr);
    assert.match(alices.stdout, new RegExp(`${id}\\s+alice@example.com\\s+deploy bot\\s+active`));
    assert.doesNotMatch(alices.stdout, new RegExp(bobs.id));

    const revoked = await cli('--as', 'carol@example.com', 'tokens', 'revoke', id);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(await authenticateToken(store, token), undefined);
    assert.match((await cli('tokens', 'list', '--user', 'alice@example.com')).stdout, /revoked 20/);
    const again = await cli('--as', 'carol@example.com', 'tokens', 'revoke', id);
    assert.equal(again.code, 4);
    assert.match(again.stderr, /no active API token/);

    const events = await store.listAudit();
    const created1 = events.filter((e) => e.type === 'token.created');
    assert.deepEqual(created1.map((e) => e.actor).sort(), ['alice@example.com', 'bob@example.com']);
    const revokedEvents = events.filter((e) => e.type === 'token.revoked');
    assert.equal(revokedEvents.length, 1);
    assert.equal(revokedEvents[0].actor, 'carol@example.com');
    assert.equal(revokedEvents[0].details.tokenId, id);
    for (const e of [...created1, ...revokedEvents]) assert.equal(e.channel, 'cli');
    const audit = JSON.stringify(events);
    for (const secret of [token, bobs.token, hashToken(token), hashToken(bobs.token)])
      assert.ok(!audit.includes(secret), 'the audit log holds a token or its hash');
    assert.equal((await store.verifyAudit()).ok, true);
  });

  it('refuses to create a token without an acting identity, or for an unknown one', async () => {
    const nobody = await cli('tokens', 'create');
    assert.equal(nobody.code, 2, nobody.stderr);
    const unknown = await cli('--as', 'mallory@example.com', 'tokens', 'create');
    assert.equal(unknown.code, 6, unknown.stderr);
    assert.doesNotMatch(unknown.stdout, /gft_/);
  });
});
