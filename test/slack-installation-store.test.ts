/**
 * "Connect Slack"'s storage on SQLite and PostgreSQL, below the HTTP flow: KnexInstallationStore (the installation
 * sealed with the keyring and bound to its row, org-wide installs, rotation to the current key on read, a missing
 * keyring or admin refused), OneTimeStateStore (a signed, dated OAuth state that completes one install only, even
 * when verified concurrently) and SlackConnection (the OAuth token first, then SLACK_BOT_TOKEN, then none).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Installation } from '@slack/bolt';
import { InvalidStateError, type InstallURLOptions } from '@slack/oauth';
import { WebClient } from '@slack/web-api';
import { SlackConnection } from '../chat-adapters/slack/connection';
import { SlackInstallationError } from '../chat-adapters/slack/errors';
import { KnexInstallationStore } from '../chat-adapters/slack/installation-store';
import { OneTimeStateStore } from '../chat-adapters/slack/oauth-state';
import type { SlackSettings } from '../chat-adapters/slack/settings';
import { createKeyring, DecryptionError, newKeySpec, parseKeys, type Keyring } from '../core/keyring';
import type { Store } from '../store/types';
import { describeDialects } from './helpers/store-dialects';

const INSTALLATIONS = 'slack_installations';
const STATES = 'slack_oauth_states';
const STATE_SECRET = 'installation-store-test-state-secret';
const ENV_TOKEN = 'xoxb-environment-token';

const K1 = newKeySpec('k1');
const K2 = newKeySpec('k2');
const K3 = newKeySpec('k3');
/** The base64 key material of every spec, which no error message may contain. */
const KEY_MATERIAL = [K1, K2, K3].map((spec) => spec.slice(spec.indexOf(':') + 1));

function ring(...specs: string[]): Keyring {
  return createKeyring(parseKeys(specs.join(',')));
}

interface InstallOptions {
  token?: string;
  teamName?: string;
  /** The metadata JSON as InstallProvider hands it over; by default `{"installedBy": "ana@example.com"}`. */
  metadata?: string;
  enterpriseId?: string;
  scopes?: string[];
}

/** A workspace install as Bolt's InstallProvider builds it after oauth.v2.access. */
function workspaceInstall(teamId: string, options: InstallOptions = {}): Installation {
  return {
    team: { id: teamId, name: options.teamName ?? `Team ${teamId}` },
    enterprise: options.enterpriseId ? { id: options.enterpriseId, name: 'Big Corp' } : undefined,
    user: { id: 'UINSTALLER', token: undefined, scopes: undefined },
    bot: {
      token: options.token ?? `xoxb-${teamId}-secret-token`,
      scopes: options.scopes ?? ['chat:write', 'commands', 'users:read'],
      id: `B${teamId}`,
      userId: `U${teamId}BOT`,
    },
    tokenType: 'bot',
    isEnterpriseInstall: false,
    appId: 'A0GRANTFLOW',
    authVersion: 'v2',
    metadata: options.metadata ?? JSON.stringify({ installedBy: 'ana@example.com' }),
  };
}

/** An org-wide install of an Enterprise Grid organisation: no team, keyed by the enterprise. */
function orgInstall(enterpriseId: string, token = `xoxb-${enterpriseId}-org-token`): Installation {
  return {
    team: undefined,
    enterprise: { id: enterpriseId, name: 'Big Corp' },
    user: { id: 'UORGADMIN', token: undefined, scopes: undefined },
    bot: { token, scopes: ['chat:write'], id: `B${enterpriseId}`, userId: `U${enterpriseId}BOT` },
    tokenType: 'bot',
    isEnterpriseInstall: true,
    appId: 'A0GRANTFLOW',
    authVersion: 'v2',
    metadata: JSON.stringify({ installedBy: 'olga@example.com' }),
  };
}

/** What comes back from the store: the installation after a JSON round trip (undefined fields dropped). */
function asStored(installation: Installation): Installation {
  return JSON.parse(JSON.stringify(installation)) as Installation;
}

function teamQuery(teamId: string, enterpriseId?: string) {
  return { teamId, enterpriseId, isEnterpriseInstall: false as const };
}

type Row = Record<string, unknown>;

async function rows(store: Store): Promise<Row[]> {
  return (await store.knex(INSTALLATIONS).select('*')) as Row[];
}

async function row(store: Store, installKey: string): Promise<Row> {
  const found = (await store.knex(INSTALLATIONS).where('install_key', installKey).first()) as Row | undefined;
  assert.ok(found, `no row for ${installKey}`);
  return found;
}

function hash(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

async function stateHashes(store: Store): Promise<string[]> {
  const found = (await store.knex(STATES).select('state_hash')) as { state_hash: string }[];
  return found.map((r) => r.state_hash).sort();
}

describeDialects('Slack installation store', (db) => {
  let store: Store;
  let keyring: Keyring | undefined;
  let installations: KnexInstallationStore;

  before(async () => {
    ({ store } = await db.fresh('slack-install'));
  });

  beforeEach(async () => {
    await store.knex(INSTALLATIONS).delete();
    await store.knex(STATES).delete();
    keyring = ring(K1);
    installations = new KnexInstallationStore(store.knex, () => keyring);
  });

  describe('installations', () => {
    it('fetches what was stored, lists the view without the token, replaces a team and deletes it', async () => {
      const acme = workspaceInstall('T0ACME', { teamName: 'Acme', token: 'xoxb-acme-first-token' });
      await installations.storeInstallation(acme);

      const fetched = await installations.fetchInstallation(teamQuery('T0ACME'));
      assert.deepEqual(fetched, asStored(acme));
      assert.equal(fetched.bot?.token, 'xoxb-acme-first-token');

      const listed = await installations.list();
      assert.equal(listed.length, 1);
      const [shown] = listed;
      assert.ok(shown);
      assert.equal(shown.teamId, 'T0ACME');
      assert.equal(shown.teamName, 'Acme');
      assert.equal(shown.botUserId, 'UT0ACMEBOT');
      assert.equal(shown.botId, 'BT0ACME');
      assert.equal(shown.appId, 'A0GRANTFLOW');
      assert.deepEqual(shown.scopes, ['chat:write', 'commands', 'users:read']);
      assert.equal(shown.installedBy, 'ana@example.com');
      assert.equal(shown.keyId, 'k1');
      assert.ok(!Number.isNaN(Date.parse(shown.installedAt)), shown.installedAt);
      assert.ok(!JSON.stringify(listed).includes('xoxb-'), 'list() shows a token');

      const current = await installations.current();
      assert.ok(current);
      assert.deepEqual(current.view, shown);
      assert.ok(!JSON.stringify(current.view).includes('xoxb-'), 'current().view shows a token');
      assert.equal(current.installation.bot?.token, 'xoxb-acme-first-token');

      // Connecting the same workspace again (new token, renamed, another admin) replaces its row.
      const again = workspaceInstall('T0ACME', {
        teamName: 'Acme Renamed',
        token: 'xoxb-acme-second-token',
        scopes: ['chat:write'],
        metadata: JSON.stringify({ installedBy: 'bob@example.com' }),
      });
      await installations.storeInstallation(again);
      assert.equal((await rows(store)).length, 1);
      assert.equal(
        (await installations.fetchInstallation(teamQuery('T0ACME'))).bot?.token,
        'xoxb-acme-second-token',
      );
      const [replaced] = await installations.list();
      assert.equal(replaced?.teamName, 'Acme Renamed');
      assert.equal(replaced?.installedBy, 'bob@example.com');
      assert.deepEqual(replaced?.scopes, ['chat:write']);

      assert.equal(await installations.remove('T0ACME'), true);
      assert.equal(await installations.remove('T0ACME'), false);
      assert.deepEqual(await installations.list(), []);
      assert.equal(await installations.current(), undefined);
      await assert.rejects(installations.fetchInstallation(teamQuery('T0ACME')), SlackInstallationError);

      // Bolt's deleteInstallation (app_uninstalled, tokens_revoked) removes a workspace too.
      await installations.storeInstallation(workspaceInstall('T0BETA'));
      await installations.storeInstallation(workspaceInstall('T0GAMMA'));
      await installations.deleteInstallation(teamQuery('T0BETA'));
      assert.deepEqual(
        (await rows(store)).map((r) => r.install_key),
        ['T0GAMMA'],
      );
      await assert.rejects(installations.fetchInstallation(teamQuery('T0BETA')), SlackInstallationError);
      assert.equal(await installations.forTeam('T0BETA'), undefined);
    });

    it('refuses to fetch a team that never connected, naming it', async () => {
      await installations.storeInstallation(workspaceInstall('T0ACME'));
      await assert.rejects(
        installations.fetchInstallation(teamQuery('T0NOBODY')),
        (err: unknown) => err instanceof SlackInstallationError && /T0NOBODY/.test(err.message),
      );
    });

    it('current() is the newest installation', async () => {
      await installations.storeInstallation(workspaceInstall('T0OLD'));
      await sleep(5);
      await installations.storeInstallation(workspaceInstall('T0NEW'));
      assert.equal((await installations.current())?.view.teamId, 'T0NEW');
      assert.deepEqual(
        (await installations.list()).map((v) => v.teamId),
        ['T0NEW', 'T0OLD'],
      );
    });

    it('serves the workspaces of an enterprise from its org-wide install, and a workspace install only its team', async () => {
      const org = orgInstall('E0BIG');
      await installations.storeInstallation(org);
      // A workspace install that happens to be in another enterprise.
      await installations.storeInstallation(workspaceInstall('T0SOLO', { enterpriseId: 'E0OTHER' }));

      assert.deepEqual(await installations.forTeam('T0INBIG', 'E0BIG'), asStored(org));
      assert.deepEqual(
        await installations.fetchInstallation({
          teamId: 'T0INBIG',
          enterpriseId: 'E0BIG',
          isEnterpriseInstall: false,
        }),
        asStored(org),
      );
      assert.deepEqual(
        await installations.fetchInstallation({
          teamId: undefined,
          enterpriseId: 'E0BIG',
          isEnterpriseInstall: true,
        }),
        asStored(org),
      );
      // Without the enterprise, or from another enterprise, the org install does not serve the team.
      assert.equal(await installations.forTeam('T0INBIG'), undefined);
      assert.equal(await installations.forTeam('T0INBIG', 'E0ELSE'), undefined);

      assert.equal((await installations.forTeam('T0SOLO'))?.bot?.token, 'xoxb-T0SOLO-secret-token');
      // The workspace install serves neither another team nor another team of its enterprise.
      assert.equal(await installations.forTeam('T0NEIGHBOUR'), undefined);
      assert.equal(await installations.forTeam('T0NEIGHBOUR', 'E0OTHER'), undefined);
      await assert.rejects(
        installations.fetchInstallation(teamQuery('T0NEIGHBOUR', 'E0OTHER')),
        SlackInstallationError,
      );
      // Only an org-wide install stands in for an enterprise: a workspace row keyed like one does not.
      await installations.storeInstallation(workspaceInstall('E0LOOKALIKE'));
      assert.equal(await installations.forTeam('T0NEIGHBOUR', 'E0LOOKALIKE'), undefined);
    });

    it('keeps no bot token in plain text in any column, even one with unusual characters', async () => {
      const tokens = {
        T0PLAIN: 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx',
        T0ODD: `xoxb-ünïcødé/+=%'"\\;--\n\t€😀-END`,
      };
      for (const [team, token] of Object.entries(tokens))
        await installations.storeInstallation(workspaceInstall(team, { token }));

      const all = await rows(store);
      assert.equal(all.length, 2);
      for (const r of all)
        for (const [column, value] of Object.entries(r)) {
          const text = String(value);
          for (const token of Object.values(tokens)) {
            assert.ok(!text.includes(token), `${column} holds a token in plain text`);
            assert.ok(!text.includes(token.slice(5)), `${column} holds a token's body in plain text`);
          }
          assert.ok(!text.includes('xoxb-'), `${column} holds something like a token`);
        }
      // Sealed, not lost: each token comes back exactly.
      for (const [team, token] of Object.entries(tokens))
        assert.equal((await installations.forTeam(team))?.bot?.token, token);
    });

    it('binds the sealed installation to its row: copied to another row it does not open', async () => {
      await installations.storeInstallation(workspaceInstall('T0AAA', { token: 'xoxb-token-of-a' }));
      await installations.storeInstallation(workspaceInstall('T0BBB', { token: 'xoxb-token-of-b' }));
      const a = await row(store, 'T0AAA');
      await store.knex(INSTALLATIONS).where('install_key', 'T0BBB').update({ sealed: a.sealed });

      await assert.rejects(installations.fetchInstallation(teamQuery('T0BBB')), DecryptionError);
      await assert.rejects(installations.forTeam('T0BBB'), DecryptionError);
      assert.equal((await installations.forTeam('T0AAA'))?.bot?.token, 'xoxb-token-of-a');
    });

    it('re-seals with the current key on read, so an old key can then be dropped', async () => {
      await installations.storeInstallation(workspaceInstall('T0ROT', { token: 'xoxb-rotating-token' }));
      assert.equal((await row(store, 'T0ROT')).key_id, 'k1');
      assert.match(String((await row(store, 'T0ROT')).sealed), /^k1\./);

      keyring = ring(K2, K1);
      assert.equal(
        (await installations.fetchInstallation(teamQuery('T0ROT'))).bot?.token,
        'xoxb-rotating-token',
      );
      const resealed = await row(store, 'T0ROT');
      assert.equal(resealed.key_id, 'k2');
      assert.match(String(resealed.sealed), /^k2\./);
      assert.equal((await installations.list())[0]?.keyId, 'k2');

      keyring = ring(K2);
      assert.equal((await installations.forTeam('T0ROT'))?.bot?.token, 'xoxb-rotating-token');

      keyring = ring(K3);
      await assert.rejects(installations.fetchInstallation(teamQuery('T0ROT')), (err: unknown) => {
        assert.ok(err instanceof DecryptionError, String(err));
        assert.match(err.message, /\bk2\b/);
        for (const material of KEY_MATERIAL)
          assert.ok(!err.message.includes(material), 'key material in message');
        assert.ok(!err.message.includes('xoxb-'), 'token in message');
        return true;
      });
    });

    it('refuses to store or read without GRANTFLOW_ENCRYPTION_KEYS', async () => {
      const keyless = new KnexInstallationStore(store.knex, () => undefined);
      await assert.rejects(
        keyless.storeInstallation(workspaceInstall('T0NOKEY')),
        (err: unknown) =>
          err instanceof SlackInstallationError && /GRANTFLOW_ENCRYPTION_KEYS/.test(err.message),
      );
      assert.deepEqual(await rows(store), []);

      await installations.storeInstallation(workspaceInstall('T0KEYED'));
      keyring = undefined;
      const noKeys = (err: unknown) =>
        err instanceof SlackInstallationError && /GRANTFLOW_ENCRYPTION_KEYS/.test(err.message);
      await assert.rejects(installations.fetchInstallation(teamQuery('T0KEYED')), noKeys);
      await assert.rejects(installations.forTeam('T0KEYED'), noKeys);
      await assert.rejects(installations.current(), noKeys);
    });

    it('refuses an installation that does not say which admin started it', async () => {
      for (const metadata of [
        '',
        '{}',
        'not json',
        JSON.stringify({ installedBy: '' }),
        JSON.stringify({ installedBy: 42 }),
        JSON.stringify({ someoneElse: 'ana@example.com' }),
      ])
        await assert.rejects(
          installations.storeInstallation(workspaceInstall('T0NOADMIN', { metadata })),
          SlackInstallationError,
          `metadata ${JSON.stringify(metadata)}`,
        );
      const missing = workspaceInstall('T0NOADMIN');
      delete missing.metadata;
      await assert.rejects(installations.storeInstallation(missing), SlackInstallationError);
      assert.deepEqual(await rows(store), []);
    });
  });

  describe('OAuth state', () => {
    const options: InstallURLOptions = {
      scopes: ['chat:write', 'commands'],
      redirectUri: 'https://grantflow.example.com/slack/oauth_redirect',
      metadata: JSON.stringify({ installedBy: 'ana@example.com' }),
    };

    it('verifies a state once, with its install options; the second time it is refused', async () => {
      const states = new OneTimeStateStore(store.knex, STATE_SECRET);
      const now = new Date();
      const state = await states.generateStateParam(options, now);
      assert.deepEqual(await stateHashes(store), [hash(state)]);
      assert.ok(
        !JSON.stringify(await store.knex(STATES).select('*')).includes(state),
        'the state kept in clear',
      );

      assert.deepEqual(await states.verifyStateParam(new Date(now.getTime() + 1000), state), options);
      assert.deepEqual(await stateHashes(store), []);
      await assert.rejects(states.verifyStateParam(new Date(now.getTime() + 2000), state), InvalidStateError);
    });

    it('refuses a state signed with another secret without consuming anything', async () => {
      const states = new OneTimeStateStore(store.knex, STATE_SECRET);
      const other = new OneTimeStateStore(store.knex, 'some-other-state-secret-0123456789');
      const now = new Date();
      const foreign = await other.generateStateParam(options, now);
      const own = await states.generateStateParam(options, now);
      const before = await stateHashes(store);
      assert.equal(before.length, 2);

      await assert.rejects(states.verifyStateParam(now, foreign), InvalidStateError);
      await assert.rejects(other.verifyStateParam(now, own), InvalidStateError);
      assert.deepEqual(await stateHashes(store), before);
      // Both are still good for the store that issued them.
      assert.deepEqual(await other.verifyStateParam(now, foreign), options);
      assert.deepEqual(await states.verifyStateParam(now, own), options);
    });

    it('refuses a state older than its TTL', async () => {
      const states = new OneTimeStateStore(store.knex, STATE_SECRET, 2);
      const now = new Date();
      const state = await states.generateStateParam(options, now);
      await assert.rejects(
        states.verifyStateParam(new Date(now.getTime() + 10_000), state),
        InvalidStateError,
      );
      // Between the signature's whole seconds and the row's expiry: still refused.
      const late = await states.generateStateParam(options, now);
      await assert.rejects(states.verifyStateParam(new Date(now.getTime() + 2_500), late), InvalidStateError);
    });

    it('forgets expired states when a new one is generated', async () => {
      const states = new OneTimeStateStore(store.knex, STATE_SECRET, 60);
      const t0 = Date.now();
      const expired = await states.generateStateParam(options, new Date(t0));
      const fresh = await states.generateStateParam(options, new Date(t0 + 30_000));
      assert.equal((await stateHashes(store)).length, 2);

      const newest = await states.generateStateParam(options, new Date(t0 + 61_000));
      assert.deepEqual(await stateHashes(store), [hash(fresh), hash(newest)].sort());
      assert.ok(!(await stateHashes(store)).includes(hash(expired)));
      assert.deepEqual(await states.verifyStateParam(new Date(t0 + 61_000), fresh), options);
    });

    it('lets exactly one of five concurrent verifications of a state succeed', async () => {
      const states = new OneTimeStateStore(store.knex, STATE_SECRET);
      const now = new Date();
      const state = await states.generateStateParam(options, now);
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => states.verifyStateParam(now, state)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
      for (const r of results)
        if (r.status === 'rejected') assert.ok(r.reason instanceof InvalidStateError, String(r.reason));
    });
  });

  describe('SlackConnection', () => {
    const clientOptions = { slackApiUrl: 'http://127.0.0.1:9/api/', retryConfig: { retries: 0 } };
    const settings = (botToken?: string): SlackSettings => ({
      botToken,
      signingSecret: 'unused',
      matchUsersByEmail: false,
    });

    it('uses the connected workspace first, and SLACK_BOT_TOKEN for other teams', async () => {
      await installations.storeInstallation(workspaceInstall('T0ACME', { token: 'xoxb-acme-oauth-token' }));
      const connection = new SlackConnection(settings(ENV_TOKEN), installations, clientOptions);

      assert.deepEqual(await connection.botToken('T0ACME'), {
        token: 'xoxb-acme-oauth-token',
        source: 'oauth',
        teamId: 'T0ACME',
      });
      assert.deepEqual(await connection.botToken(), {
        token: 'xoxb-acme-oauth-token',
        source: 'oauth',
        teamId: 'T0ACME',
      });
      assert.deepEqual(await connection.botToken('T0OTHER'), { token: ENV_TOKEN, source: 'environment' });

      const client = await connection.client();
      assert.ok(client instanceof WebClient);
      assert.equal(client, connection.clientFor('xoxb-acme-oauth-token'));

      // Disconnected: the environment token, at once.
      await installations.remove('T0ACME');
      assert.deepEqual(await connection.botToken(), { token: ENV_TOKEN, source: 'environment' });
      assert.equal(await connection.client(), connection.clientFor(ENV_TOKEN));
    });

    it('has no token and no client with neither an installation nor SLACK_BOT_TOKEN', async () => {
      const connection = new SlackConnection(settings(undefined), installations, clientOptions);
      assert.equal(await connection.botToken(), undefined);
      assert.equal(await connection.botToken('T0ACME'), undefined);
      assert.equal(await connection.client(), undefined);

      const noDatabase = new SlackConnection(settings(undefined), undefined, clientOptions);
      assert.equal(await noDatabase.botToken(), undefined);
      assert.equal(await noDatabase.client(), undefined);
    });

    it('reuses one WebClient per token', () => {
      const connection = new SlackConnection(settings(ENV_TOKEN), installations, clientOptions);
      const first = connection.clientFor('xoxb-one');
      assert.ok(first instanceof WebClient);
      assert.equal(connection.clientFor('xoxb-one'), first);
      assert.notEqual(connection.clientFor('xoxb-two'), first);
      assert.equal(connection.clientFor('xoxb-two'), connection.clientFor('xoxb-two'));
    });
  });
});
