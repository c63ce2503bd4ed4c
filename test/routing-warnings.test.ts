/**
 * Routing warnings from `grantflow flows validate` (the built CLI, as an operator runs it): a flow that notifies a
 * chat platform that is not connected, a Slack channel the bot is not in or cannot find, or a Teams channel whose
 * team never added the bot. The Slack token is found the way the servers find it: a workspace connected in the
 * portal (in Grantflow's database, sealed) first, else SLACK_BOT_TOKEN.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Installation } from '@slack/bolt';
import { KnexInstallationStore } from '../chat-adapters/slack/installation-store';
import { createKeyring, newKeySpec, parseKeys } from '../core/keyring';
import { openStore } from '../store';
import { startFakeSlack, type FakeSlack } from './fakes/slack-api';
import { runCli } from './helpers/run-cli';
import { testConfigYaml } from './helpers/test-config';

const TOKEN = 'xoxb-routing-token';
const TEAMS_CHANNEL = '19:approvals@thread.tacv2';
const TEAMS_APP_ID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';

/** auto-read → Slack #in (bot is a member); approved-write → Slack #out (not a member) and a Teams channel;
 * two-of-three → a Slack channel that does not exist. */
function config(): string {
  const notify = [
    '[{ platform: slack, channel: CIN }]',
    `[{ platform: slack, channel: COUT }, { platform: teams, channel: '${TEAMS_CHANNEL}' }]`,
    '[{ platform: slack, channel: CNOSUCH }, { platform: log }]',
  ];
  let i = 0;
  return testConfigYaml({ prefix: 'rt', envName: 'GF_ROUTING_DB', taskQueue: 'routing' }).replace(
    /( {4}requireJustification: (true|false))/g,
    (line: string) => `${line}\n    notify: ${notify[i++] ?? '[{ platform: log }]'}`,
  );
}

describe('routing warnings (flows validate)', function () {
  this.timeout(60_000);
  let fake: FakeSlack;
  let dir: string;
  let file: string;
  const base = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GRANTFLOW_DATA_DIR: dir,
      GF_ROUTING_DB: 'postgres://x/y',
    };
    for (const name of Object.keys(env))
      if (/^(SLACK_|Microsoft|DATABASE_URL$|GRANTFLOW_ENCRYPTION_KEYS$)/.test(name)) delete env[name];
    return env;
  };
  const validate = (env: NodeJS.ProcessEnv, ...flags: string[]) =>
    runCli(['flows', 'validate', file, ...flags], { env });
  const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('warning: '));

  before(async () => {
    fake = await startFakeSlack({ token: TOKEN });
    fake.addChannel('CIN', true);
    fake.addChannel('COUT', false);
    dir = mkdtempSync(path.join(os.tmpdir(), 'gf-routing-'));
    file = path.join(dir, 'grantflow.yaml');
    writeFileSync(file, config());
  });
  after(async () => {
    await fake?.close();
  });

  it('says when nothing is connected, without failing validation', async () => {
    const r = await validate(base());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid — /);
    const lines = warnings(r.stderr);
    assert.equal(lines.length, 2, r.stderr);
    assert.match(
      lines[0]!,
      /flows auto-read, approved-write, two-of-three notify Slack, which is not connected/,
    );
    assert.match(lines[1]!, /flow approved-write notifies Microsoft Teams, which is not configured/);
    assert.match(r.stderr, /note: no Grantflow database here/);
    const strict = await validate(base(), '--strict');
    assert.equal(strict.code, 12, 'strict: warnings fail');
    const offline = await validate(base(), '--offline');
    assert.equal(offline.code, 0);
    assert.equal(offline.stderr, '', 'offline checks the file only');
  });

  it('names the Slack channels the bot is not in or cannot find, with SLACK_BOT_TOKEN', async () => {
    const env = {
      ...base(),
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: fake.url,
    };
    const r = await validate(env);
    assert.equal(r.code, 0, r.stderr);
    const lines = warnings(r.stderr);
    assert.ok(
      lines.some((l) => /not in Slack channel COUT: invite it .*approved-write/.test(l)),
      r.stderr,
    );
    assert.ok(
      lines.some((l) => /Slack channel CNOSUCH \(flow two-of-three\) was not found/.test(l)),
      r.stderr,
    );
    assert.ok(!lines.some((l) => /CIN|Slack, which is not connected/.test(l)), 'no warning for #in or Slack');
    fake.setMember('COUT', true);
    try {
      const fixed = warnings((await validate(env)).stderr);
      assert.ok(!fixed.some((l) => /COUT/.test(l)), 'inviting the bot clears the warning');
    } finally {
      fake.setMember('COUT', false);
    }
  });

  it('uses the workspace connected in the portal, and knows which Teams channels have the bot', async () => {
    const keys = newKeySpec('k1');
    const store = await openStore({ sqliteFile: path.join(dir, 'grantflow.sqlite') });
    try {
      await store.migrate();
      const installation: Installation = {
        team: { id: 'T0FAKE', name: 'Grantflow Test' },
        enterprise: undefined,
        user: { id: 'U0ADMIN', token: undefined, scopes: undefined },
        bot: { token: TOKEN, scopes: ['chat:write'], id: 'BBOT', userId: 'UBOT' },
        tokenType: 'bot',
        isEnterpriseInstall: false,
        appId: 'A0GRANTFLOW',
        authVersion: 'v2',
        metadata: JSON.stringify({ installedBy: 'carol@example.com' }),
      };
      await new KnexInstallationStore(store.knex, () => createKeyring(parseKeys(keys))).storeInstallation(
        installation,
      );
      const env = {
        ...base(),
        SLACK_CLIENT_ID: '1.2',
        SLACK_CLIENT_SECRET: 'client-secret',
        SLACK_STATE_SECRET: 'state-secret-0123456789',
        SLACK_SIGNING_SECRET: 'secret',
        SLACK_API_URL: fake.url,
        GRANTFLOW_ENCRYPTION_KEYS: keys,
        MicrosoftAppId: TEAMS_APP_ID,
      };
      const r = await validate(env);
      const lines = warnings(r.stderr);
      assert.ok(!lines.some((l) => /Slack, which is not connected/.test(l)), r.stderr);
      assert.ok(
        lines.some((l) => /not in Slack channel COUT/.test(l)),
        'the connected token was used',
      );
      assert.ok(
        lines.some((l) => new RegExp(`not been added to the team of Teams channel ${TEAMS_CHANNEL}`).test(l)),
        r.stderr,
      );
      assert.doesNotMatch(r.stderr, /note: /, 'everything could be checked');

      await store.saveChatReference('teams', `channel:${TEAMS_CHANNEL}`, {
        conversation: { id: TEAMS_CHANNEL },
      });
      const added = warnings((await validate(env)).stderr);
      assert.ok(!added.some((l) => /Teams/.test(l)), 'the bot added to the team clears the Teams warning');

      const wrongKeys = warnings(
        (await validate({ ...env, GRANTFLOW_ENCRYPTION_KEYS: newKeySpec('k9') })).stderr,
      );
      assert.ok(
        wrongKeys.some((l) => /Slack, which is not connected/.test(l)),
        'a token that cannot be opened is not used',
      );
    } finally {
      await store.close();
    }
  });
});
